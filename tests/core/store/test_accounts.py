"""Staff: accounts and roles, API tokens stored as hashes, passwords, the audit log."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.db import api_tokens, staff
from core.store.accounts import token_digest
from core.store.case_store import CaseStore


def username() -> str:
    """A unique username."""
    return f"agent-{secrets.token_hex(4)}"


def test_add_staff_and_validation(store: CaseStore) -> None:
    name = username()
    member = store.add_staff(name, "officer", "commune-temara-roads")
    assert member.role == "officer" and member.administration_code == "commune-temara-roads"
    assert store.get_staff(name) == member
    with pytest.raises(ValueError, match="already exists"):
        store.add_staff(name, "agent")
    with pytest.raises(ValueError, match="unknown role"):
        store.add_staff(username(), "boss")
    with pytest.raises(ValueError, match="needs an administration"):
        store.add_staff(username(), "officer")
    with pytest.raises(ValueError, match="unknown administration"):
        store.add_staff(username(), "officer", "nowhere")
    assert store.add_staff(username(), "supervisor").administration_code is None


def test_tokens(store: CaseStore, engine: Engine) -> None:
    name = username()
    member = store.add_staff(name, "admin")
    token = store.issue_token(name)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(api_tokens).where(api_tokens.c.staff_id == member.id)).one()
    assert stored.token_sha256 == token_digest(token) and token not in stored.token_sha256
    assert stored.last_used_at is None
    assert store.staff_for_token(token) == member
    with engine.connect() as conn:
        used = conn.execute(sa.select(api_tokens.c.last_used_at).where(api_tokens.c.id == stored.id)).scalar()
    assert used is not None and used.tzinfo is not None
    assert store.staff_for_token(token + "x") is None
    assert store.staff_for_token("") is None
    second = store.issue_token(name)
    assert store.revoke_token(token)
    assert store.staff_for_token(token) is None
    assert store.staff_for_token(second) == member
    assert store.revoke_tokens(name) == 1
    assert store.staff_for_token(second) is None
    with pytest.raises(LookupError):
        store.issue_token("nobody-" + secrets.token_hex(4))


def test_passwords(store: CaseStore, engine: Engine) -> None:
    name = username()
    member = store.add_staff(name, "agent", password="correct horse battery")
    with engine.connect() as conn:
        hashed = conn.execute(sa.select(staff.c.password_hash).where(staff.c.id == member.id)).scalar()
    assert hashed.startswith("$argon2")
    assert store.verify_password(name, "wrong") is None
    with engine.connect() as conn:
        assert conn.execute(sa.select(staff.c.failed_logins).where(staff.c.id == member.id)).scalar() == 1
    assert store.verify_password(name, "correct horse battery") == member
    with engine.connect() as conn:
        assert conn.execute(sa.select(staff.c.failed_logins).where(staff.c.id == member.id)).scalar() == 0
    no_password = store.add_staff(username(), "agent")
    assert store.verify_password(no_password.username, "") is None


def test_audit(store: CaseStore) -> None:
    member = store.add_staff(username(), "supervisor")
    contact = store.get_or_create_contact("+212611111111")
    case = store.create_case(category="roads", description="hole", language="ar", contact_id=contact.id,
                             origin_channel="telegram")  # fmt: skip
    entry = store.audit(member.id, "case.view", case.id, {"fields": ["contact"]})
    entries = store.audit_entries(case.id)
    assert entries[0]["id"] == entry and entries[0]["action"] == "case.view"
    assert entries[0]["detail"] == '{"fields": ["contact"]}' and entries[0]["at"].tzinfo is not None
