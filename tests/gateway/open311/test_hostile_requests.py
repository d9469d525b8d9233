"""Hostile input to the Open311 routes, one table and one runner: every row gets the spec's error list
with a 4xx (never a 5xx), in the format asked for, and a refused POST files nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from core.db import cases
from tests.fixtures.gateway import Gateway
from tests.gateway.open311.conftest import Client, errors_of, parsed

GOOD = {"service_code": "waste", "lat": "35.7595", "long": "-5.8340", "description": "Poubelles"}
TOO_MANY_IDS = ",".join(["1"] * 1001)
"""1,001 ids, short enough for a request line (aiohttp reads at most 8,190 bytes of one)."""


@dataclass(frozen=True)
class Row:
    """One hostile request: a POST of `fields` (over the good ones; None drops a field) or raw `body`,
    or a GET of `path` with `params`; the status it must get."""

    label: str
    status: int
    fields: dict[str, str | None] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str = "application/x-www-form-urlencoded"
    key: str | None = None
    path: str = ""
    params: dict[str, str] = field(default_factory=dict)


ROWS = [
    Row("no key", 403, key=""),
    Row("a key of another system", 403, key="x" * 43),
    Row("a key past any length", 403, key="k" * 5000),
    Row("unknown service", 404, {"service_code": "potholes-on-mars"}),
    Row("empty service", 400, {"service_code": ""}),
    Row("no location at all", 400, {"lat": None, "long": None}),
    Row("lat without long", 400, {"long": None}),
    Row("long without lat", 400, {"lat": None}),
    Row("lat out of range", 400, {"lat": "91"}),
    Row("long out of range", 400, {"long": "-180.5"}),
    Row("lat not a number", 400, {"lat": "north"}),
    Row("lat NaN", 400, {"lat": "nan"}),
    Row("long infinite", 400, {"long": "inf"}),
    Row("huge description", 400, {"description": "x" * 4001}),
    Row("huge address", 400, {"address_string": "rue " * 200}),
    Row("phone that is no number", 400, {"phone": "call me maybe"}),
    Row("email that is no email", 400, {"email": "not-an-email"}),
    Row("media_url that is no URL", 400, {"media_url": "javascript:alert(1)"}),
    Row("media_url to a file", 400, {"media_url": "file:///etc/passwd"}),
    Row("another jurisdiction", 404, {"jurisdiction_id": "sfgov.org"}),
    Row("JSON instead of a form", 400, body=b'{"service_code": "waste"}', content_type="application/json"),
    Row("non-UTF-8 body", 400, body=b"service_code=waste&description=\xff\xfe"),
    Row("a charset that is not UTF-8", 415, body=b"service_code=waste", content_type=(
        "application/x-www-form-urlencoded; charset=latin-1")),
    Row("dates that are not dates", 400, path="requests", params={"start_date": "2010-13-45T00:00:00Z"}),
    Row("a date without a timezone", 400, path="requests", params={"end_date": "2010-01-01T00:00:00"}),
    Row("end before start", 400, path="requests", params={"start_date": "2010-02-01T00:00:00Z",
                                                          "end_date": "2010-01-01T00:00:00Z"}),
    Row("1,001 ids", 400, path="requests", params={"service_request_id": TOO_MANY_IDS}),
    Row("an id that is no reference", 400, path="requests", params={"service_request_id": "1,2,3"}),
    Row("status that is no status", 400, path="requests", params={"status": "open,maybe"}),
    Row("updates with dates that are not dates", 400, path="servicerequestupdates",
        params={"start_date": "soon", "end_date": "later"}),
    Row("an unknown request", 404, path="requests/1234567890"),
    Row("an id with control characters", 404, path="requests/%00%1b"),
    Row("a service with odd characters", 404, path="services/%3Cscript%3E"),
]


def _count(gateway: Gateway) -> int:
    with gateway.runtime.store.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(cases)).scalar_one()


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize("row", ROWS, ids=[row.label for row in ROWS])
def test_hostile_request(client: Client, gateway: Gateway, fmt: str, row: Row) -> None:
    before = _count(gateway)
    if row.path:
        response = client.get(f"{row.path}.{fmt}", **row.params)
    elif row.body is not None:
        body = f"api_key={client.key}&".encode() + row.body
        response = client.post(fmt, body, content_type=row.content_type)
    else:
        fields = {k: v for k, v in {**GOOD, **row.fields}.items() if v is not None}
        response = client.post(fmt, fields, key=row.key)
    assert response.status_code == row.status, response.text
    if row.body is None or row.content_type == "application/json":
        [(code, description)] = errors_of(response)
        assert code == row.status and description
    assert _count(gateway) == before, "a refused request files nothing"


def test_answers_escape_what_a_reporter_wrote(client: Client) -> None:
    written = "<b>&amp; \"quoted\" ]]> ok</b>"
    reference = client.file(description=written.replace(" ok", " \x01ok"), address_string="<script>x</script>")
    response = client.get(f"requests/{reference}.xml")
    assert response.status_code == 200
    assert b"<script>" not in response.content and b"&lt;script&gt;" in response.content
    request = parsed(response).find("request")
    assert request is not None and request.findtext("description") == written
    assert client.get(f"requests/{reference}.json").json()[0]["description"] == written
