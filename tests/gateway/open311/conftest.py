"""An Open311 client of the test gateway: a fresh API key, and requests sent as GeoReport clients send them."""

from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from gateway.open311.services import jurisdiction_of
from tests.fixtures.gateway import Gateway

FORM = "application/x-www-form-urlencoded; charset=utf-8"


@dataclass
class Client:
    """A GeoReport v2 client with its own key, talking HTTP to the running gateway."""

    gateway: Gateway
    name: str
    key: str

    @property
    def base(self) -> str:
        """The endpoint's URL."""
        return f"{self.gateway.url}/open311/v2"

    @property
    def jurisdiction(self) -> str:
        """The gateway's one jurisdiction_id."""
        return jurisdiction_of(self.gateway.runtime.deployment)

    def get(self, path: str, **params: Any) -> requests.Response:
        """GET a resource (`services.xml`, `requests/123.json`)."""
        return requests.get(f"{self.base}/{path}", params=params, timeout=15)

    def post(self, fmt: str, fields: dict[str, Any] | list[tuple[str, str]] | bytes, *,
             content_type: str = FORM, key: str | None = None) -> requests.Response:
        """POST a service request, form-encoded (`key` None: this client's; "" for none)."""
        if isinstance(fields, bytes):
            body = fields
        else:
            pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
            given = self.key if key is None else key
            if given:
                pairs.insert(0, ("api_key", given))
            body = urlencode(pairs).encode()
        return requests.post(f"{self.base}/requests.{fmt}", data=body, headers={"Content-Type": content_type},
                             timeout=15)

    def file(self, **fields: str) -> str:
        """File a request (waste at Témara unless said otherwise); its service_request_id."""
        given = {"service_code": "waste", "lat": "35.7595", "long": "-5.8340",
                 "description": f"Bins overflowing {secrets.token_hex(4)}", **fields}
        response = self.post("json", given)
        assert response.status_code == 200, response.text
        return response.json()[0]["service_request_id"]


@pytest.fixture
def client(gateway: Gateway) -> Client:
    """A client with a key of its own."""
    name = f"client-{secrets.token_hex(4)}"
    return Client(gateway, name, gateway.runtime.store.add_api_key(name))


def parsed(response: requests.Response) -> Any:
    """A JSON or XML answer as data, checking its content type and (for XML) its declaration."""
    content_type = response.headers["Content-Type"]
    assert "charset=utf-8" in content_type
    if content_type.startswith("application/json"):
        return json.loads(response.content.decode("utf-8"))
    assert content_type.startswith("text/xml"), content_type
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def errors_of(response: requests.Response) -> list[tuple[int, str]]:
    """The spec's error list, as (code, description), from either format."""
    body = parsed(response)
    if isinstance(body, list):
        return [(item["code"], item["description"]) for item in body]
    assert body.tag == "errors"
    return [(int(error.findtext("code") or 0), error.findtext("description") or "") for error in body]
