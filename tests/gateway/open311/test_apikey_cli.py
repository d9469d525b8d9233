"""`hotline apikey add NAME` prints a key once (only its SHA-256 is stored); `hotline apikey revoke NAME`
ends it; a request with the key is audited under the key's name."""

from __future__ import annotations

import hashlib
import secrets

import requests
import sqlalchemy as sa

from core.db import api_keys, audit_log
from tests.fixtures.gateway import Gateway
from tests.gateway.conftest import Hotline

REQUEST = {"service_code": "roads", "address_string": "Route de Rabat", "description": "Nid de poule"}


def test_add_use_and_revoke_a_key(hotline: Hotline, gateway: Gateway) -> None:
    name = f"fixmystreet-{secrets.token_hex(3)}"
    code, out, err = hotline("apikey", "add", name)
    assert code == 0, err
    key = out.strip()
    assert len(key) >= 40
    with gateway.runtime.store.read() as conn:
        row = conn.execute(sa.select(api_keys).where(api_keys.c.name == name)).one()
    assert row.key_sha256 == hashlib.sha256(key.encode()).hexdigest() and key not in row.key_sha256

    url = f"{gateway.url}/open311/v2/requests.json"
    filed = requests.post(url, data={"api_key": key, **REQUEST}, timeout=10)
    assert filed.status_code == 200, filed.text
    reference = filed.json()[0]["service_request_id"]
    case = gateway.runtime.store.get_case(reference)
    assert case is not None
    with gateway.runtime.store.read() as conn:
        audited = conn.execute(sa.select(audit_log).where(audit_log.c.case_id == case.id,
                                                          audit_log.c.action == "open311.request")).all()
    assert len(audited) == 1 and name in audited[0].detail and audited[0].staff_id is None

    code, out, err = hotline("apikey", "add", name)
    assert code == 1 and "already exists" in err
    code, out, err = hotline("apikey", "revoke", name)
    assert code == 0 and name in out
    refused = requests.post(url, data={"api_key": key, **REQUEST, "description": "encore"}, timeout=10)
    assert refused.status_code == 403
    code, out, err = hotline("apikey", "revoke", name)
    assert code == 1 and "no live API key" in err


def test_a_bad_name_is_refused(hotline: Hotline) -> None:
    code, _, err = hotline("apikey", "add", "two words")
    assert code == 1 and "key name" in err
