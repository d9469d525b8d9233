"""Hostile input on every route of a running gateway (SQLite and PostgreSQL, a real Redis).

One table, one runner. Each row is a request (route, headers, body) and the status range it must get:
undecodable bodies, unknown and UTF-16 charsets, broken multipart, wrong content types and shapes, deep
JSON, numbers past 64 bits, empty and oversized fields, control characters. Rows for the undecodable
bodies are made for every route of the app's router, so a new route is covered the day it is added.
The runner asserts that no answer is a 5xx, that nothing is logged at ERROR or with a traceback, that
an undecodable body is logged once at WARNING, and that a refused request records nothing (the
`messages` table is counted before and after). Rows that get through are checked for what they left
in the store: no control characters, and a TwiML answer that parses as XML.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import func, select

from channels.ivr.adapter import STEPS
from core.db import messages
from gateway.http.app import create_app
from gateway.settings import Settings
from tests import telegram_updates as u
from tests.emulators.twilio import TwilioEmulator
from tests.fixtures.database import DatabaseFactory
from tests.fixtures.gateway import HOTLINE_NUMBER, PUBLIC_URL, Gateway, gateway_settings, start_gateway
from tests.support import ACCOUNT_SID, inbound_sms, inbound_whatsapp, message_sid, sign, status_callback

SECRET = "hostile-webhook_secret-7"
PASSWORD = "correct horse battery staple"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
PAST_64_BITS = str(2**64 + 1)
CONTROLS = "a\x00b\x07c\x1bd\x7fe\x0bf\x0cg\rh\r\ni\tj"
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
VOICE = "/webhooks/twilio/voice"
FOUR_XX = (400, 499)


@dataclass(frozen=True)
class Row:
    """One hostile request and the answer it must get.

    `body`: raw bytes as sent; a dict of a form content type is a form (signed as Twilio signs it with
    `auth="twilio"`), any other value is sent as JSON. `auth`: `twilio` (signature), `telegram` (secret token), `token`
    (an admin's bearer token), `console` (a signed-in admin, with the CSRF token added to a form).
    `records`: the request is a citizen message that must be recorded; else nothing may be.
    `warns`: the refusal is logged exactly once at WARNING."""

    label: str
    path: str
    body: Any = b""
    content_type: str | None = FORM
    method: str = "POST"
    auth: str = ""
    expect: tuple[int, int] = FOUR_XX
    headers: dict[str, str | bytes] = field(default_factory=dict)
    records: bool = False
    warns: bool = False


@dataclass
class Hostile:
    """A gateway with Telegram configured, an admin's API token, and a signed-in console session."""

    gateway: Gateway
    token: str
    console: requests.Session
    csrf: str

    def count(self) -> int:
        """Rows in the messages table."""
        with self.gateway.runtime.store.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(messages)).scalar_one()

    def send(self, row: Row) -> requests.Response:
        """Send `row` as its `auth` says."""
        headers: dict[str, str | bytes] = dict(row.headers)
        http: Any = requests
        body = row.body
        if row.auth == "console":
            http = self.console
            if isinstance(body, dict):
                body = {"csrf": self.csrf, **body}
        if isinstance(body, dict) and row.content_type == FORM:
            if row.auth == "twilio":
                headers["X-Twilio-Signature"] = sign(self.gateway.twilio.auth_token, PUBLIC_URL + row.path, body)
            data = urlencode(body).encode()
        elif isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
        if row.content_type is not None:
            headers["Content-Type"] = row.content_type
        if row.auth == "telegram":
            headers.setdefault("X-Telegram-Bot-Api-Secret-Token", SECRET)
        if row.auth == "token":
            headers.setdefault("Authorization", f"Bearer {self.token}")
        response = http.request(row.method, self.gateway.url + row.path, data=data, headers=headers,
                                allow_redirects=False, stream=True, timeout=20)
        response.close()
        return response


def _router_routes() -> list[tuple[str, str]]:
    """(method, path) of every GET and POST route of the app, path parameters filled with ids that exist
    nowhere but are well formed (so what is refused is the body, not the id)."""
    app = create_app(Settings.from_env({}))
    found = set()
    for route in app.router.routes():
        if route.method not in ("GET", "POST"):
            continue
        path = route.resource.canonical if route.resource is not None else ""
        found.add((route.method, path.replace("{reference}", "4829130575").replace("{id}", "1")
                   .replace("{message_id}", "1").replace("{username}", "nobody-at-all")))
    return sorted(found)


ROUTES = _router_routes()
POSTS = [path for method, path in ROUTES if method == "POST"]
GETS = [path for method, path in ROUTES if method == "GET"]


def _auth_of(path: str) -> str:
    return "console" if path.startswith("/console") else "token" if path.startswith("/api/") else ""


UNDECODABLE: list[tuple[str, bytes, str, int]] = [
    ("raw non-UTF-8 bytes", b"Body=\xff\xfe&From=%2B212612345678", FORM, 400),
    ("unknown charset", b"Body=x", f"{FORM}; charset=klingon", 415),
    ("UTF-16 charset", "Body=x".encode("utf-16"), f"{FORM}; charset=utf-16", 415),
    ("multipart without a boundary", b"garbage", "multipart/form-data", 400),
    ("multipart never starting", b"garbage", "multipart/form-data; boundary=xyz", 400),
    ("multipart cut short", b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nx',
     "multipart/form-data; boundary=xyz", 400),
    ("multipart part not UTF-8", b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\r\n--xyz--\r\n',
     "multipart/form-data; boundary=xyz", 400),
    ("multipart part of an unknown charset",
     b'--xyz\r\nContent-Type: text/plain; charset=klingon\r\nContent-Disposition: form-data; name="a"\r\n\r\n'
     b"x\r\n--xyz--\r\n", "multipart/form-data; boundary=xyz", 400),
    ("JSON that is not UTF-8", b'{"text": "\xff"}', JSON, 400),
    ("JSON in UTF-16", '{"text": "x"}'.encode("utf-16"), f"{JSON}; charset=utf-16", 415),
]

GENERIC_ROWS = [
    Row(f"{label} to POST {path}", path, body, content_type, auth=_auth_of(path), expect=(status, status),
        warns=True)
    for path in POSTS for label, body, content_type, status in UNDECODABLE
] + [
    Row(f"GET {path} with a hostile query", f"{path}?limit={PAST_64_BITS}&offset=-1&from=99999-99-99&lang=%ff"
        f"&status=%00&category=%00&channel=%00&administration=%00&needs_person=%ff&case=%00&reference=%ff",
        content_type=None, method="GET", auth=_auth_of(path), expect=(200, 499))
    for path in GETS
] + [
    Row(f"GET {path} with an undecodable body", path, b"\xff\xfe", FORM, method="GET", auth=_auth_of(path),
        expect=(400, 400), warns=True)
    for path in GETS if not path.endswith("/events")
]


def _voice(step: str = "", query: str = "", **fields: str) -> tuple[str, dict[str, str]]:
    form = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID, "From": "+212612345678",
            "To": HOTLINE_NUMBER, "Direction": "inbound", "CallStatus": "in-progress", **fields}
    path = VOICE + (f"/{step}" if step else "") + (f"?{query}" if query else "")
    return path, {key: value for key, value in form.items() if value is not None}


def _sms(**changes: str) -> dict[str, str]:
    form = inbound_sms("+212612345678", HOTLINE_NUMBER, "Bonjour")
    form.update(changes)
    return {key: value for key, value in form.items() if value != "<drop>"}


def _whatsapp(**changes: str) -> dict[str, str]:
    form = inbound_whatsapp("+212612345679", HOTLINE_NUMBER, "Salam")
    form.update(changes)
    return form


def _telegram(**message: Any) -> dict[str, Any]:
    update = u.text(61000000 + secrets.randbelow(10**6), "Bonjour")
    for key, value in message.items():
        if value is None:
            update["message"].pop(key, None)
        else:
            update["message"][key] = value
    return update


def _press(data: Any) -> dict[str, Any]:
    update = u.press(61000001, SECRET, "1", [("1", "a")])
    update["callback_query"]["data"] = data
    return update


def _deep(levels: int) -> bytes:
    return b'{"update_id": 1, "message": ' + b"[" * levels + b"]" * levels + b"}"


TWILIO_ROWS = [
    Row("SMS without a sender is acknowledged, not recorded", "/webhooks/twilio/sms", _sms(From="<drop>"),
        auth="twilio", expect=(200, 200)),
    Row("SMS sender longer than the store keeps", "/webhooks/twilio/sms", _sms(From="A" * 40), auth="twilio"),
    Row("SMS with an empty recipient", "/webhooks/twilio/sms", _sms(To=""), auth="twilio"),
    Row("SMS recipient longer than the store keeps", "/webhooks/twilio/sms", _sms(To="9" * 70), auth="twilio"),
    Row("SMS SID with odd characters", "/webhooks/twilio/sms", _sms(MessageSid="SM../../\x00;DROP"), auth="twilio"),
    Row("SMS SID longer than the store keeps", "/webhooks/twilio/sms", _sms(MessageSid="SM" + "a" * 200),
        auth="twilio"),
    Row("SMS sender of control characters only", "/webhooks/twilio/sms", _sms(From="\x00\x07"), auth="twilio"),
    Row("SMS body of control characters is cleaned and answered", "/webhooks/twilio/sms", _sms(Body=CONTROLS),
        auth="twilio", expect=(200, 200), records=True),
    Row("SMS body far over the cap is cut and answered", "/webhooks/twilio/sms", _sms(Body="é" * 20_000),
        auth="twilio", expect=(200, 200), records=True),
    Row("SMS of JSON to the form route is not signed", "/webhooks/twilio/sms", {"Body": "x"}, content_type=JSON,
        expect=(403, 403)),
    Row("SMS signature with a byte that is not UTF-8", "/webhooks/twilio/sms", _sms(),
        headers={"X-Twilio-Signature": "\xff\xfe="}, expect=(400, 400), warns=True),
    Row("SMS with a query of undecodable escapes is not signed", "/webhooks/twilio/sms?x=%ff%fe&y=%ED%A0%80",
        _sms(), auth="twilio", expect=(403, 403)),
    Row("SMS gzip-encoded with a body that is not gzip", "/webhooks/twilio/sms", b"Body=x",
        headers={"Content-Encoding": "gzip"}, expect=(400, 400), warns=True),
    Row("API gzip-encoded with a body that is not gzip", "/api/v1/cases/4829130575/notes", b'{"note": "x"}', JSON,
        auth="token", headers={"Content-Encoding": "gzip"}, expect=(400, 400), warns=True),
    Row("SMS with a charset in quotes", "/webhooks/twilio/sms", b"Body=x", f'{FORM}; charset="utf-16"',
        expect=(415, 415), warns=True),
    Row("SMS as text/xml is not signed", "/webhooks/twilio/sms", b"<Body>x</Body>", content_type="text/xml",
        expect=(403, 403)),
    Row("WhatsApp without a sender", "/webhooks/twilio/whatsapp", _whatsapp(From="whatsapp:", WaId=""),
        auth="twilio", expect=(200, 200)),
    Row("WhatsApp sender longer than the store keeps", "/webhooks/twilio/whatsapp",
        _whatsapp(From="whatsapp:" + "1" * 40), auth="twilio"),
    Row("WhatsApp SID with odd characters", "/webhooks/twilio/whatsapp", _whatsapp(MessageSid="MM<script>"),
        auth="twilio"),
    Row("WhatsApp with odd media, pin and name is cleaned and answered", "/webhooks/twilio/whatsapp",
        _whatsapp(NumMedia=PAST_64_BITS, Latitude="1e999", Longitude="nan", ProfileName=CONTROLS,
                  ButtonPayload="\x00" * 300, OriginalRepliedMessageSid="\x1b" * 300, Body=CONTROLS),
        auth="twilio", expect=(200, 200), records=True),
    Row("status callback SID with odd characters", "/webhooks/twilio/status",
        status_callback("SM|x:y z\x00", "failed", "+212612345678", HOTLINE_NUMBER, "30003"), auth="twilio"),
    Row("status callback SID past the store's length", "/webhooks/twilio/status",
        status_callback("SM" + "0" * 300, "undelivered", "+212612345678", HOTLINE_NUMBER), auth="twilio"),
    Row("status callback with a status that is no word", "/webhooks/twilio/status",
        {**status_callback(message_sid(), "failed", "+212612345678", HOTLINE_NUMBER), "MessageStatus": "DROP TABLE"},
        auth="twilio"),
    Row("status callback with an error code of 100 characters", "/webhooks/twilio/status",
        status_callback(message_sid(), "failed", "+212612345678", HOTLINE_NUMBER, "9" * 100), auth="twilio"),
    Row("status callback without a SID", "/webhooks/twilio/status", {"MessageStatus": "delivered"}, auth="twilio"),
    Row("status callback for a message we never sent", "/webhooks/twilio/status",
        status_callback(message_sid(), "failed", "+212612345678", HOTLINE_NUMBER, "30003"), auth="twilio",
        expect=(204, 204)),
    *[Row(f"voice {step or 'start'} without a caller", *_voice(step, From="", Digits="1"), auth="twilio")
      for step in ("", *STEPS)],
    Row("voice without a CallSid", *_voice("input", CallSid=""), auth="twilio"),
    Row("voice CallSid with odd characters", *_voice("input", CallSid="CA'; --"), auth="twilio"),
    Row("voice keys no keypad has", *_voice("language", Digits="²"), auth="twilio"),
    Row("voice turn past 64 bits in the query", *_voice("input", f"asks=menu&lang=fr&n={PAST_64_BITS}&r=-1",
                                                        Digits="1"), auth="twilio", expect=(200, 200),
        records=True),
    Row("voice speech of control characters", *_voice("input", "asks=description&lang=fr&n=3",
                                                      SpeechResult=CONTROLS), auth="twilio", expect=(200, 200),
        records=True),
    Row("voice recording callback with a NUL in its URL", *_voice("recording", RecordingUrl="https://api.twilio.com/"
                                                                                            "\x00",
                                                                  RecordingStatus="completed"),
        auth="twilio", expect=(204, 204)),
]

TELEGRAM_ROWS = [
    Row("Telegram text that is a number", "/webhooks/telegram", _telegram(text=5), JSON, auth="telegram",
        expect=(200, 200)),
    Row("Telegram venue without a location", "/webhooks/telegram",
        _telegram(text=None, venue={"title": "Marché", "address": "Av. V"}), JSON, auth="telegram",
        expect=(200, 200)),
    Row("Telegram message without a chat", "/webhooks/telegram", _telegram(chat=None), JSON, auth="telegram",
        expect=(200, 200)),
    Row("Telegram date out of range", "/webhooks/telegram", _telegram(date=10**20), JSON, auth="telegram",
        expect=(200, 200)),
    Row("Telegram sender id empty", "/webhooks/telegram", _telegram(**{"from": {"id": "", "is_bot": False,
                                                                                 "first_name": "A"}}),
        JSON, auth="telegram", expect=(200, 200)),
    Row("Telegram sender id past 64 bits", "/webhooks/telegram",
        _telegram(**{"from": {"id": 2**70, "is_bot": False, "first_name": "A"}}), JSON, auth="telegram",
        expect=(200, 200)),
    Row("Telegram photo that is a string", "/webhooks/telegram", _telegram(photo="x"), JSON, auth="telegram",
        expect=(200, 200)),
    Row("Telegram button data that is a number", "/webhooks/telegram", _press(7), JSON, auth="telegram",
        expect=(200, 200)),
    Row("Telegram empty first name is still answered", "/webhooks/telegram",
        _telegram(**{"from": {"id": 61000002, "is_bot": False, "first_name": ""}}), JSON, auth="telegram",
        expect=(200, 200), records=True),
    Row("Telegram text of control characters and a lone surrogate", "/webhooks/telegram",
        json.dumps(_telegram(text=CONTROLS + "\ud800")).encode(), JSON, auth="telegram", expect=(200, 200),
        records=True),
    Row("Telegram update id past 64 bits", "/webhooks/telegram", {**_telegram(), "update_id": 2**70}, JSON,
        auth="telegram"),
    Row("Telegram update id that is a boolean", "/webhooks/telegram", {**_telegram(), "update_id": True}, JSON,
        auth="telegram"),
    Row("Telegram JSON 1,000 levels deep", "/webhooks/telegram", _deep(1000), JSON, auth="telegram"),
    Row("Telegram JSON 100,000 levels deep", "/webhooks/telegram", _deep(100_000), JSON, auth="telegram"),
    Row("Telegram JSON 40 levels deep", "/webhooks/telegram", _deep(40), JSON, auth="telegram"),
    Row("Telegram JSON with NaN", "/webhooks/telegram", b'{"update_id": NaN}', JSON, auth="telegram"),
    Row("Telegram JSON with a 5,000-digit number", "/webhooks/telegram", b'{"update_id": ' + b"9" * 5000 + b"}",
        JSON, auth="telegram"),
    Row("Telegram body that is a list", "/webhooks/telegram", [1, 2], JSON, auth="telegram"),
    Row("Telegram without the secret", "/webhooks/telegram", _telegram(), JSON, expect=(403, 403)),
    Row("Telegram secret with a byte that is not UTF-8", "/webhooks/telegram", _telegram(), JSON,
        headers={"X-Telegram-Bot-Api-Secret-Token": "\xff" + SECRET}, expect=(400, 400), warns=True),
]

API_ROWS = [
    Row("API status with NaN", "/api/v1/cases/4829130575/status", b'{"status": "closed", "note": NaN}', JSON,
        auth="token", expect=(400, 400)),
    Row("API status with a number past 4,300 digits", "/api/v1/cases/4829130575/status",
        b'{"status": "closed", "note": ' + b"1" * 5000 + b"}", JSON, auth="token", expect=(400, 400)),
    Row("API status with a float past the double range", "/api/v1/cases/4829130575/status",
        b'{"status": "closed", "note": 1e999}', JSON, auth="token", expect=(400, 400)),
    Row("API body 1,000 levels deep", "/api/v1/cases/4829130575/notes", b"[" * 1000 + b"]" * 1000, JSON,
        auth="token", expect=(400, 400)),
    Row("API body 100,000 levels deep", "/api/v1/conversations/1/messages", b"[" * 100_000 + b"]" * 100_000,
        JSON, auth="token", expect=(400, 400)),
    Row("API body that is a list", "/api/v1/cases/4829130575/status", ["closed"], JSON, auth="token",
        expect=(400, 400)),
    Row("API note of control characters and a lone surrogate", "/api/v1/cases/4829130575/notes",
        b'{"note": "\\u0000\\ud800\\u001b x"}', JSON, auth="token", expect=(404, 404)),
    Row("API conversation id past 64 bits", f"/api/v1/conversations/{PAST_64_BITS}/takeover", {}, JSON,
        auth="token", expect=(404, 404)),
    Row("API conversation id in Arabic-Indic digits", "/api/v1/conversations/١/close", {}, JSON, auth="token",
        expect=(404, 404)),
    Row("API message id past 64 bits", f"/api/v1/conversations/1/messages/{PAST_64_BITS}/retry", {}, JSON,
        auth="token", expect=(404, 404)),
    Row("API conversation GET past 64 bits", f"/api/v1/conversations/{PAST_64_BITS}", content_type=None,
        method="GET", auth="token", expect=(404, 404)),
    Row("API case list offset past 64 bits", f"/api/v1/cases?offset={PAST_64_BITS}", content_type=None,
        method="GET", auth="token", expect=(400, 400)),
    Row("API case list negative limit", "/api/v1/cases?limit=-5", content_type=None, method="GET", auth="token",
        expect=(400, 400)),
    Row("API case list with a NUL category", "/api/v1/cases?category=%00", content_type=None, method="GET",
        auth="token", expect=(400, 400)),
    Row("API filing with a latitude out of range", "/api/v1/conversations/1/case",
        {"category": "x", "lat": 1e308, "lon": 0}, JSON, auth="token", expect=(400, 400)),
    Row("API text that is an object", "/api/v1/conversations/1/messages", {"text": {"a": 1}}, JSON, auth="token",
        expect=(400, 400)),
    Row("API token with a byte that is not UTF-8", "/api/v1/cases", content_type=None, method="GET",
        headers={"Authorization": "Bearer \xff\xfe"}, expect=(400, 400), warns=True),
    Row("API token that is not ASCII", "/api/v1/cases", content_type=None, method="GET",
        headers={"Authorization": "Bearer é".encode()}, expect=(401, 401)),
    Row("API token of 7,000 characters", "/api/v1/cases", content_type=None, method="GET",
        headers={"Authorization": "Bearer " + "x" * 7000}, expect=(401, 401)),
]

CONSOLE_ROWS = [
    Row("console sign-in not UTF-8, signed out", "/console/login", b"username=\xff&password=x", FORM,
        expect=(400, 400), warns=True),
    Row("console sign-in with an unknown charset, signed out", "/console/login", b"username=x",
        f"{FORM}; charset=klingon", expect=(415, 415), warns=True),
    Row("console sign-in with control characters", "/console/login",
        {"csrf": "x", "username": CONTROLS, "password": CONTROLS}, expect=(400, 400), warns=True),
    Row("console sign-in with a NUL in the username", "/console/login",
        {"csrf": "double-submit", "username": "nobody\x00", "password": "x"},
        headers={"Cookie": "hotline_login_csrf=double-submit"}, expect=(400, 400), warns=True),
    Row("console sign-in with a forwarded address that is no address", "/console/login",
        {"csrf": "double-submit", "username": "nobody\r\n\t", "password": "x"},
        headers={"Cookie": "hotline_login_csrf=double-submit", "X-Forwarded-For": "999.999.1.1, ::::, é".encode(),
                 "Forwarded": "for=é".encode()}, expect=(401, 401)),
    Row("console page with a session cookie that is not UTF-8", "/console/queue", content_type=None, method="GET",
        headers={"Cookie": "hotline_session=\xff\xfe; hotline_login_csrf=\xff"}, expect=(400, 400), warns=True),
    Row("console page with a session cookie that is not ASCII", "/console/queue", content_type=None, method="GET",
        headers={"Cookie": "hotline_session=é; hotline_login_csrf=é".encode()}, expect=(200, 399)),
    Row("console case page with escapes that are not UTF-8", "/console/cases/%ff%fe%ED%A0%80", content_type=None,
        method="GET", auth="console", expect=(404, 404)),
    Row("API case with escapes that are not UTF-8", "/api/v1/cases/%ff%fe%ED%A0%80", content_type=None,
        method="GET", auth="token", expect=(404, 404)),
    Row("console write to a conversation id past 64 bits", f"/console/conversations/{PAST_64_BITS}/messages",
        {"text": "x"}, auth="console", expect=(404, 404)),
    Row("console write with control characters", "/console/conversations/1/messages", {"text": CONTROLS},
        auth="console", expect=(400, 400), warns=True),
    Row("console retry of a message id past 64 bits", f"/console/conversations/1/messages/{PAST_64_BITS}/retry",
        {}, auth="console", expect=(404, 404)),
    Row("console conversation page past 64 bits", f"/console/conversations/{PAST_64_BITS}", content_type=None,
        method="GET", auth="console", expect=(404, 404)),
    Row("console media past 64 bits", f"/console/media/{PAST_64_BITS}", content_type=None, method="GET",
        auth="console", expect=(404, 404)),
    Row("console case list offset past 64 bits", f"/console/cases?offset={PAST_64_BITS}", content_type=None,
        method="GET", auth="console", expect=(400, 400)),
    Row("console case page with a NUL reference", "/console/cases/%00", content_type=None, method="GET",
        auth="console", expect=(404, 404)),
    Row("console note with line breaks and tabs on no case", "/console/cases/4829130575/notes",
        {"note": "a\r\nb\tc"}, auth="console", expect=(404, 404)),
]

ROWS = GENERIC_ROWS + TWILIO_ROWS + TELEGRAM_ROWS + API_ROWS + CONSOLE_ROWS


@pytest.fixture(scope="module")
def hostile(database_factory: DatabaseFactory, redis_url: str, twilio: TwilioEmulator) -> Iterator[Hostile]:
    """A gateway of its own (its own database, so counts are its alone) with Telegram configured."""
    settings = gateway_settings(database_factory.new(), redis_url, twilio)
    env = {**settings.env, "TELEGRAM_BOT_TOKEN": "7000000001:hostile", "TELEGRAM_WEBHOOK_SECRET": SECRET,
           "TELEGRAM_API_BASE": "http://127.0.0.1:9"}
    running = start_gateway(dataclasses.replace(settings, env=env), twilio)
    store = running.runtime.store
    name = f"admin-{secrets.token_hex(3)}"
    store.add_staff(name, "admin", None, password=PASSWORD)
    console = requests.Session()
    form = CSRF.search(console.get(running.url + "/console/login?lang=en", timeout=10).text)
    assert form is not None
    signed = console.post(running.url + "/console/login", data={"csrf": form.group(1), "username": name,
                                                                "password": PASSWORD},
                          allow_redirects=False, timeout=10)
    assert signed.status_code == 303, signed.text
    csrf = CSRF.search(console.get(running.url + "/console/queue", timeout=10).text)
    assert csrf is not None
    yield Hostile(running, store.issue_token(name), console, csrf.group(1))
    assert running.server is not None
    running.server.stop()
    running.runtime.close()
    running.connection.close()


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.label)
def test_hostile_request(hostile: Hostile, row: Row, caplog: pytest.LogCaptureFixture) -> None:
    before = hostile.count()
    with caplog.at_level(logging.WARNING):
        response = hostile.send(row)
    low, high = row.expect
    assert low <= response.status_code <= high, (row.label, response.status_code, response.text[:300])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
    if row.warns:
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1, caplog.text
    if row.records:
        assert hostile.count() > before, "the message was not recorded"
    else:
        assert hostile.count() == before, "a refused request left rows in the store"


def test_every_route_is_in_the_table() -> None:
    covered = {(row.method, row.path.split("?")[0]) for row in GENERIC_ROWS}
    assert set(ROUTES) <= covered
    assert {(method, path) for method, path in ROUTES if path.startswith("/webhooks/twilio/voice")} >= {
        ("POST", f"{VOICE}/{step}") for step in STEPS}


def _fresh_phone() -> str:
    return "+2126" + str(10_000_000 + secrets.randbelow(89_999_999))


def test_control_characters_never_reach_twiml_or_the_store(hostile: Hostile) -> None:
    phone = _fresh_phone()
    response = hostile.gateway.post("/webhooks/twilio/sms", inbound_sms(phone, HOTLINE_NUMBER, "Bonjour " + CONTROLS))
    assert response.status_code == 200
    root = ET.fromstring(response.text)
    assert root.tag == "Response" and list(root.iter("Message"))
    with hostile.gateway.runtime.store.engine.connect() as connection:
        bodies = connection.execute(select(messages.c.body).where(
            (messages.c.sender == phone) | (messages.c.recipient == phone))).scalars().all()
    assert "Bonjour abcdefg\nh\ni\tj" in bodies
    assert not any(UNSAFE.search(body) for body in bodies)


def test_a_description_of_control_characters_is_echoed_as_xml(hostile: Hostile) -> None:
    """The confirmation repeats the description: the TwiML still parses, without the controls."""
    phone = _fresh_phone()
    spoken = ""
    for body in ("Bonjour, j'ai une plainte", "1", "1",
                 "Ordures\x00 devant\x07 l'école\x1b depuis\ufffe une semaine\x7f", "Rue 5", "Karim\x08"):
        response = hostile.gateway.post("/webhooks/twilio/sms", inbound_sms(phone, HOTLINE_NUMBER, body))
        assert response.status_code == 200, response.text
        spoken = "\n".join(element.text or "" for element in ET.fromstring(response.text).iter("Message"))
    assert "Ordures devant l'école depuis une semaine" in spoken
    assert not UNSAFE.search(spoken)
