"""The Messenger adapter as tables: Meta's webhook check, the signature, real-shaped deliveries and what
each gives; sends, their error classes and media downloads against the local Graph API emulator."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from channels.base import (
    MAX_TEXT,
    Choice,
    HttpRequest,
    Location,
    MediaError,
    MediaRef,
    OutboundMessage,
    SendError,
)
from channels.messenger.adapter import MessengerChannel, MessengerSettings, split_text
from tests.emulators import messenger as fb
from tests.emulators.messenger import PAGE_ID, Failure, MessengerEmulator
from tests.emulators.server import ThreadedServer
from tests.support import channel_settings

SECRET = "app-secret-0123456789abcdef"
VERIFY = "verify-token_42"
PSID = "6123456789012345"
ENV = {"MESSENGER_PAGE_TOKEN": fb.TOKEN, "MESSENGER_APP_SECRET": SECRET, "MESSENGER_VERIFY_TOKEN": VERIFY}
ADAPTER = MessengerChannel.from_settings(channel_settings(ENV))
CDN_IMAGE = "https://scontent.xx.fbcdn.net/v/t1.15752-9/123_n.jpg?_nc_cat=1&oh=00_sig&oe=6A00"
CDN_AUDIO = "https://cdn.fbsbx.com/v/t59.3654-21/456_n.mp4/audioclip.mp4?_nc_cat=1&oh=00_sig"


def request(body: Any, secret: str | None = SECRET, header: str | None = None) -> HttpRequest:
    """A webhook request as the gateway hands it to the adapter, signed unless told otherwise."""
    raw = body if isinstance(body, bytes) else fb.encode(body)
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-Hub-Signature-256"] = header
    elif secret is not None:
        headers["X-Hub-Signature-256"] = fb.signature(secret, raw)
    return HttpRequest("https://hotline.example/webhooks/messenger", "POST", headers, {}, raw)


def parse(*events: dict[str, Any]) -> list[Any]:
    return ADAPTER.parse(request(fb.webhook(*events)))


# -- webhook verification (GET) --------------------------------------------------------------------

VERIFICATION = [
    ("good", {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}, 200),
    ("wrong token", {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1158201444"}, 403),
    ("token prefix", {"hub.mode": "subscribe", "hub.verify_token": VERIFY[:-1], "hub.challenge": "1"}, 403),
    ("wrong mode", {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}, 403),
    ("no mode", {"hub.verify_token": VERIFY, "hub.challenge": "1158201444"}, 403),
    ("missing challenge", {"hub.mode": "subscribe", "hub.verify_token": VERIFY}, 403),
    ("empty challenge", {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": ""}, 403),
    ("markup challenge", {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "<script>"}, 403),
    ("spaced challenge", {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1 2"}, 403),
    ("long challenge", {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "9" * 129}, 403),
    ("non-ASCII challenge", {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "١٢٣"}, 403),
    ("non-ASCII token", {"hub.mode": "subscribe", "hub.verify_token": "vérify\udcff", "hub.challenge": "1"}, 403),
]


@pytest.mark.parametrize(("label", "query", "status"), VERIFICATION, ids=[row[0] for row in VERIFICATION])
def test_webhook_verification(label: str, query: dict[str, str], status: int) -> None:
    reply = ADAPTER.verify_subscription(query)
    assert reply.status == status
    assert reply.content_type == "text/plain"
    if status == 200:
        assert reply.body == query["hub.challenge"]
    else:
        assert query.get("hub.challenge", "") not in reply.body or not query.get("hub.challenge")


def test_no_verify_token_configured_refuses_even_an_empty_one() -> None:
    adapter = MessengerChannel.from_settings(channel_settings({"MESSENGER_APP_SECRET": SECRET}))
    assert adapter.verify_subscription({"hub.mode": "subscribe", "hub.verify_token": "",
                                        "hub.challenge": "1"}).status == 403


# -- signature -------------------------------------------------------------------------------------

BODY = fb.encode(fb.webhook(fb.text(PSID, "Bonjour")))
GOOD = fb.signature(SECRET, BODY)
SIGNATURES = [
    ("good", GOOD, True),
    ("upper-case hex", "sha256=" + GOOD[7:].upper(), True),
    ("signed with another secret", fb.signature("other", BODY), False),
    ("over another body", fb.signature(SECRET, BODY + b" "), False),
    ("empty", "", False),
    ("no prefix", GOOD[7:], False),
    ("sha1", "sha1=" + hashlib.sha1(BODY).hexdigest(), False),
    ("short", GOOD[:-2], False),
    ("long", GOOD + "00", False),
    ("not hex", "sha256=" + "z" * 64, False),
]


@pytest.mark.parametrize(("label", "header", "ok"), SIGNATURES, ids=[row[0] for row in SIGNATURES])
def test_signature(label: str, header: str, ok: bool) -> None:
    assert ADAPTER.verify(request(BODY, header=header), None) is ok


def test_missing_signature_and_header_name_case() -> None:
    assert ADAPTER.verify(request(BODY, secret=None), None) is False
    lower = HttpRequest("https://hotline.example/webhooks/messenger", "POST", {"x-hub-signature-256": GOOD}, {}, BODY)
    assert ADAPTER.verify(lower, None) is True


def test_no_secret_configured_refuses_everything() -> None:
    adapter = MessengerChannel.from_settings(channel_settings({"MESSENGER_VERIFY_TOKEN": VERIFY}))
    assert adapter.verify(request(BODY, secret=""), None) is False
    assert adapter.verify(request(BODY), None) is False


# -- parsing ---------------------------------------------------------------------------------------

LONG_MID = "m_" + "A" * 300
PARSE = [
    ("text", fb.text(PSID, "Bonjour, les poubelles"), {"text": "Bonjour, les poubelles"}),
    ("quick reply", fb.quick_reply(PSID, "Plainte", "1"), {"text": "Plainte", "button_payload": "1"}),
    ("postback", fb.postback(PSID, "GET_STARTED", "Commencer"), {"text": "", "button_payload": "GET_STARTED"}),
    ("image", fb.attachments(PSID, fb.attachment("image", CDN_IMAGE)),
     {"media": (MediaRef(CDN_IMAGE, "image/jpeg"),)}),
    ("image with text", fb.attachments(PSID, fb.attachment("image", CDN_IMAGE), words="Devant l'école"),
     {"media": (MediaRef(CDN_IMAGE, "image/jpeg"),), "text": "Devant l'école"}),
    ("audio", fb.attachments(PSID, fb.attachment("audio", CDN_AUDIO)),
     {"media": (MediaRef(CDN_AUDIO, "audio/mp4"),)}),
    ("two images", fb.attachments(PSID, fb.attachment("image", CDN_IMAGE), fb.attachment("image", CDN_IMAGE + "&2")),
     {"media": (MediaRef(CDN_IMAGE, "image/jpeg"), MediaRef(CDN_IMAGE + "&2", "image/jpeg"))}),
    ("location", fb.attachments(PSID, fb.pin(34.0209, -6.8416)), {"location": Location(34.0209, -6.8416)}),
    ("location out of range", fb.attachments(PSID, fb.pin(134.0, -6.8)), {"location": None}),
    ("location without coordinates", fb.attachments(PSID, {"type": "location", "payload": {"coordinates": "x"}}),
     {"location": None}),
    ("image on a foreign host", fb.attachments(PSID, fb.attachment("image", "https://evil.example/x.jpg")),
     {"media": ()}),
    ("image on a look-alike host", fb.attachments(PSID, fb.attachment("image", "https://fbcdn.net.evil.example/x")),
     {"media": ()}),
    ("image over plain http", fb.attachments(PSID, fb.attachment("image", CDN_IMAGE.replace("https", "http"))),
     {"media": ()}),
    ("image with credentials in the URL", fb.attachments(
        PSID, fb.attachment("image", "https://user@scontent.xx.fbcdn.net/x")), {"media": ()}),
    ("sticker sent as an image", fb.attachments(
        PSID, fb.attachment("image", "https://scontent.xx.fbcdn.net/v/arst", sticker_id=369239263222822)),
     {"media": ()}),
    ("shared link (fallback)", fb.attachments(PSID, {"type": "fallback", "payload": {"url": "My Documents/foo.doc",
                                                                                      "title": "Foo"}}),
     {"media": ()}),
    ("video not kept", fb.attachments(PSID, fb.attachment("video", CDN_AUDIO)), {"media": ()}),
    ("over-long text cut", fb.text(PSID, "a" * 5000), {"text": "a" * MAX_TEXT}),
    ("control characters removed", fb.text(PSID, "Rue\x00 7\r\nprès\x1b du marché"),
     {"text": "Rue 7\nprès du marché"}),
    ("reply to our message", fb.text(PSID, "oui", reply_to={"mid": "m_ours"}), {"reply_to": "m_ours"}),
    ("long message id kept as a digest", fb.text(PSID, "x", message_id=LONG_MID),
     {"provider_message_id": "sha256:" + hashlib.sha256(LONG_MID.encode()).hexdigest()}),
]


@pytest.mark.parametrize(("label", "event", "expected"), PARSE, ids=[row[0] for row in PARSE])
def test_events_become_messages(label: str, event: dict[str, Any], expected: dict[str, Any]) -> None:
    (message,) = parse(event)
    assert message.channel == "messenger"
    assert message.sender == PSID
    assert message.recipient == PAGE_ID
    assert message.received_at == datetime.fromtimestamp(event["timestamp"] / 1000, UTC)
    body = event.get("message") or event["postback"]
    if "provider_message_id" not in expected:
        assert message.provider_message_id == body["mid"]
    for name, value in expected.items():
        assert getattr(message, name) == value, name


def test_postback_without_mid_has_a_stable_id() -> None:
    event = fb.postback(PSID, "MENU", with_mid=False)
    first, second = parse(event)[0], parse(event)[0]
    assert first.provider_message_id == second.provider_message_id
    assert first.provider_message_id.startswith("postback:")
    later = {**event, "timestamp": event["timestamp"] + 1}
    assert parse(later)[0].provider_message_id != first.provider_message_id


def test_timestamps_in_seconds_are_read_too() -> None:
    (message,) = parse({**fb.text(PSID, "x"), "timestamp": 1459991487})
    assert message.received_at == datetime.fromtimestamp(1459991487, UTC)


IGNORED = [
    ("echo", fb.event(PAGE_ID, "message", {"is_echo": True, "mid": "qT7ywaK", "app_id": 1517776481860111,
                                           "text": "our reply"}, page=PSID)),
    ("delivery", fb.event(PSID, "delivery", {"mids": ["mid.1458668856218:ed81099e15d3f4f233"],
                                             "watermark": 1458668856253, "seq": 37})),
    ("read", fb.event(PSID, "read", {"watermark": 1458668856253})),
    ("reaction", fb.event(PSID, "reaction", {"reaction": "love", "emoji": "❤", "action": "react", "mid": "m_1"})),
    ("optin", fb.event(PSID, "optin", {"ref": "x"})),
    ("referral", fb.event(PSID, "referral", {"ref": "x", "source": "SHORTLINK", "type": "OPEN_THREAD"})),
    ("deleted", fb.text(PSID, "x", is_deleted=True)),
    ("unknown kind", fb.event(PSID, "game_play", {"score": 3})),
    ("message without id", fb.event(PSID, "message", {"text": "x"})),
    ("sender not digits", {**fb.text(PSID, "x"), "sender": {"id": "5678; DROP"}}),
    ("sender too long", {**fb.text(PSID, "x"), "sender": {"id": "1" * 40}}),
    ("sender user_ref only", {**fb.text(PSID, "x"), "sender": {"user_ref": "abc"}}),
    ("no recipient", {k: v for k, v in fb.text(PSID, "x").items() if k != "recipient"}),
    ("postback without payload", fb.event(PSID, "postback", {"title": "x", "mid": "m_2"})),
    ("event not an object", "message"),
]


@pytest.mark.parametrize(("label", "event"), IGNORED, ids=[row[0] for row in IGNORED])
def test_events_we_do_not_handle_give_nothing(label: str, event: Any) -> None:
    assert ADAPTER.parse(request({"object": "page", "entry": [fb.entry(event)]})) == []


@pytest.mark.parametrize("delivery", [
    {"object": "instagram", "entry": [fb.entry(fb.text(PSID, "x"))]},
    {"object": "user", "entry": []},
    {"entry": [fb.entry(fb.text(PSID, "x"))]},
    {"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "standby": [fb.text(PSID, "x")]}]},
    {"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "changes": [{"field": "feed"}]}]},
    {"object": "page", "entry": ["x", 1, None, {"messaging": "x"}]},
])
def test_other_objects_and_entries_give_nothing(delivery: dict[str, Any]) -> None:
    assert ADAPTER.parse(request(delivery)) == []


@pytest.mark.parametrize("body", [b"", b"{not json", b"[]", b'"page"', b"1", b"null", b'{"object": "page"}',
                                  b'{"object": "page", "entry": {}}', b'{"object": "page", "entry": [NaN]}',
                                  b"\xff\xfe", b"[" * 100 + b"]" * 100])
def test_bodies_that_are_not_a_delivery_are_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        ADAPTER.parse(request(body))


def test_a_batch_keeps_every_good_event_in_order() -> None:
    others = "7234567890123456"
    delivery = fb.webhook(fb.text(PSID, "un"), entries=(
        fb.entry(fb.quick_reply(others, "Plainte", "1"), {"sender": {"id": PSID}}, fb.text(PSID, "deux")),
        fb.entry(fb.event(PSID, "read", {"watermark": 1}), {**fb.text(others, "x"), "sender": "nobody"},
                 fb.attachments(others, fb.pin(34.0, -6.8))),
    ))
    messages = ADAPTER.parse(request(delivery))
    assert [(m.sender, m.text, m.button_payload) for m in messages] == [
        (PSID, "un", None), (others, "Plainte", "1"), (PSID, "deux", None), (others, "", None)]
    assert messages[-1].location == Location(34.0, -6.8)


def test_the_acknowledgement_is_a_quick_200() -> None:
    reply = ADAPTER.acknowledge(request(BODY), [])
    assert (reply.status, reply.body) == (200, "EVENT_RECEIVED")


MEDIA_HOSTS = [
    ("https://scontent.xx.fbcdn.net/v/x.jpg", True),
    ("https://scontent-cdg4-1.xx.fbcdn.net/v/x.jpg", True),
    ("https://cdn.fbsbx.com/v/t59/x.mp4", True),
    ("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1", True),
    ("https://graph.facebook.com/v27.0/123", True),
    ("http://graph.facebook.com/v27.0/123", False),
    ("https://media.example.org/x.jpg", True),
    ("http://scontent.xx.fbcdn.net/v/x.jpg", False),
    ("https://fbcdn.net.evil.example/x.jpg", False),
    ("https://evilfbcdn.net/x.jpg", False),
    ("ftp://cdn.fbsbx.com/x", False),
    ("file:///etc/passwd", False),
    ("https://user:pw@cdn.fbsbx.com/x", False),
    ("/relative/x.jpg", False),
]


@pytest.mark.parametrize(("url", "allowed"), MEDIA_HOSTS)
def test_media_hosts(url: str, allowed: bool) -> None:
    settings = MessengerSettings.from_env({"MESSENGER_MEDIA_HOSTS": " Media.Example.org , "})
    assert settings.media_allowed(url) is allowed


def test_settings_defaults() -> None:
    settings = MessengerSettings.from_env({})
    assert settings.messages_url == "https://graph.facebook.com/v27.0/me/messages"
    assert (settings.page_token, settings.app_secret, settings.verify_token) == ("", "", "")


@pytest.mark.parametrize(("text", "parts"), [
    ("", []),
    ("court", ["court"]),
    ("a" * 2000, ["a" * 2000]),
    ("a" * 2001, ["a" * 2000, "a"]),
    ("mot " * 600, None),
    (("ligne " * 30 + "\n") * 20, None),
])
def test_split_text(text: str, parts: list[str] | None) -> None:
    split = split_text(text)
    if parts is not None:
        assert split == parts
    assert all(0 < len(part) <= 2000 for part in split)
    assert "".join("".join(split).split()) == "".join(text.split())


# -- sending ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def api() -> Iterator[MessengerEmulator]:
    emulator = MessengerEmulator()
    server = ThreadedServer(emulator.app()).start()
    emulator.url = server.url
    yield emulator
    server.stop()


@pytest.fixture
async def channel(api: MessengerEmulator) -> AsyncIterator[MessengerChannel]:
    """An adapter pointed at the emulator, its HTTP client closed after the test."""
    adapter = MessengerChannel.from_settings(channel_settings({**ENV, "MESSENGER_API_BASE": api.url}))
    yield adapter
    await adapter.aclose()


def out(text: str = "Bonjour", recipient: str = PSID, **extra: Any) -> OutboundMessage:
    return OutboundMessage(channel="messenger", recipient=recipient, sender=PAGE_ID, text=text, **extra)


def psid(n: int) -> str:
    """A recipient of this test alone."""
    return f"61{n:014d}"


async def test_a_text_goes_as_a_response(channel: MessengerChannel, api: MessengerEmulator) -> None:
    result = await channel.send(out("Votre plainte est enregistrée.", psid(1)))
    (call,) = api.sent(psid(1))
    assert call.json == {"recipient": {"id": psid(1)}, "messaging_type": "RESPONSE",
                         "message": {"text": "Votre plainte est enregistrée."}}
    assert result.status == "accepted" and result.provider_message_id.startswith("m_")


async def test_choices_are_quick_replies(channel: MessengerChannel, api: MessengerEmulator) -> None:
    choices = (Choice("1", "Plainte"), Choice("2", "Observation"), Choice("EN", "English"))
    await channel.send(out("Que souhaitez-vous faire ?", psid(2), choices=choices))
    (call,) = api.sent(psid(2))
    assert call.text == "Que souhaitez-vous faire ?"
    assert call.quick_replies == [{"content_type": "text", "title": "Plainte", "payload": "1"},
                                  {"content_type": "text", "title": "Observation", "payload": "2"},
                                  {"content_type": "text", "title": "English", "payload": "EN"}]


async def test_thirteen_choices_fit_fourteen_are_numbered(channel: MessengerChannel, api: MessengerEmulator) -> None:
    await channel.send(out("Catégorie ?", psid(3), choices=tuple(Choice(str(i), f"Choix {i}") for i in range(13))))
    assert len(api.sent(psid(3))[-1].quick_replies) == 13
    fourteen = tuple(Choice(str(i), f"Choix {i}") for i in range(14))
    await channel.send(out("Catégorie ?", psid(3), choices=fourteen))
    last = api.sent(psid(3))[-1]
    assert last.quick_replies == []
    assert last.text.splitlines() == ["Catégorie ?", *(f"{i} Choix {i}" for i in range(14))]


async def test_a_label_over_20_characters_is_numbered_in_full_and_still_tappable(channel: MessengerChannel,
                                                                                api: MessengerEmulator) -> None:
    choices = (Choice("1", "Éclairage public en panne"), Choice("2", "Voirie"))
    await channel.send(out("Catégorie ?", psid(4), choices=choices))
    (call,) = api.sent(psid(4))
    assert call.text == "Catégorie ?\n1 Éclairage public en panne\n2 Voirie"
    assert call.quick_replies == [{"content_type": "text", "title": "1 Éclairage public…", "payload": "1"},
                                  {"content_type": "text", "title": "2 Voirie", "payload": "2"}]
    assert all(len(q["title"]) <= 20 for q in call.quick_replies)
    await channel.send(out("Catégorie ?", psid(4), choices=(Choice("1", "x" * 20),)))
    assert api.sent(psid(4))[-1].quick_replies[0]["title"] == "x" * 20


async def test_a_persons_message_carries_the_human_agent_tag(channel: MessengerChannel,
                                                            api: MessengerEmulator) -> None:
    await channel.send(out("Bonjour, ici l'agent Karim.", psid(5), by_person=True))
    (call,) = api.sent(psid(5))
    assert call.json["messaging_type"] == "MESSAGE_TAG" and call.json["tag"] == "HUMAN_AGENT"


async def test_long_text_is_split_with_the_quick_replies_last(channel: MessengerChannel,
                                                             api: MessengerEmulator) -> None:
    text = " ".join(f"mot{i}" for i in range(700))  # 4789 characters
    await channel.send(out(text, psid(6), choices=(Choice("1", "Oui"), Choice("2", "Non"))))
    calls = api.sent(psid(6))
    assert len(calls) == 3 and all(len(c.text) <= 2000 for c in calls)
    assert " ".join(c.text for c in calls) == text
    assert [bool(c.quick_replies) for c in calls] == [False, False, True]


ERRORS = [
    ("rate limit 613", Failure(400, 613, "(#613) Calls to this api have exceeded the rate limit."), True, False,
     "613", 60.0),
    ("app throttled with Retry-After", Failure(400, 4, "(#4) Application request limit reached", retry_after=7),
     True, False, "4", 7.0),
    ("user throttled", Failure(400, 17, "(#17) User request limit reached", subcode=2446079), True, False, "17",
     60.0),
    ("page throttled", Failure(400, 32, "Page request limit reached"), True, False, "32", 60.0),
    ("temporary", Failure(500, 2, "An unexpected error has occurred. Please retry your request later."), True,
     False, "2", None),
    ("unknown", Failure(400, 1, "An unknown error occurred"), True, False, "1", None),
    ("policy block", Failure(400, 368, "The action attempted has been deemed abusive"), True, False, "368", None),
    ("5xx", Failure(503, 99, "Service unavailable"), True, False, "99", None),
    ("person not available", Failure(400, 551, "This person isn't available right now.", subcode=1545041), False,
     True, "551", None),
    ("window closed subcode", Failure(400, 10, "Messaging window closed", subcode=1545041), False, True, "10", None),
    ("outside the window", Failure(400, 10, "(#10) This message is sent outside of allowed window.",
                                   subcode=2018278), False, False, "10", None),
    ("invalid parameter", Failure(400, 100, "(#100) Invalid parameter"), False, False, "100", None),
    ("permissions", Failure(403, 230, "(#230) Requires pages_messaging permission"), False, False, "230", None),
    ("token expired", Failure(400, 190, "Error validating access token: Session has expired"), False, False,
     "190", None),
]


@pytest.mark.parametrize(("label", "failure", "retryable", "unreachable", "code", "retry_after"), ERRORS,
                         ids=[row[0] for row in ERRORS])
async def test_errors_are_classed(channel: MessengerChannel, api: MessengerEmulator, label: str, failure: Failure,
                                  retryable: bool, unreachable: bool, code: str, retry_after: float | None) -> None:
    recipient = psid(100 + [row[0] for row in ERRORS].index(label))
    api.fail_next(recipient, failure)
    with pytest.raises(SendError) as raised:
        await channel.send(out("Bonjour", recipient))
    error = raised.value
    assert (error.retryable, error.unreachable, error.code, error.retry_after) == (retryable, unreachable, code,
                                                                                   retry_after)
    assert fb.TOKEN not in str(error)
    await channel.send(out("Bonjour", recipient))
    assert len(api.sent(recipient)) == 1


async def test_a_wrong_token_is_final(api: MessengerEmulator) -> None:
    adapter = MessengerChannel.from_settings(channel_settings({**ENV, "MESSENGER_API_BASE": api.url,
                                                               "MESSENGER_PAGE_TOKEN": "EAAG-revoked"}))
    try:
        with pytest.raises(SendError) as raised:
            await adapter.send(out("Bonjour", psid(7)))
    finally:
        await adapter.aclose()
    assert (raised.value.retryable, raised.value.code) == (False, "190")
    assert "EAAG-revoked" not in str(raised.value)


async def test_an_unreachable_api_is_retried() -> None:
    adapter = MessengerChannel.from_settings(channel_settings({**ENV, "MESSENGER_API_BASE": "http://127.0.0.1:9"}))
    try:
        with pytest.raises(SendError) as raised:
            await adapter.send(out())
    finally:
        await adapter.aclose()
    assert (raised.value.retryable, raised.value.code) == (True, "network")


@pytest.mark.parametrize(("recipient", "text", "code"), [("+212612345678", "x", "recipient"), ("", "x", "recipient"),
                                                          (PSID, "  ", "empty")])
async def test_sends_that_cannot_go_make_no_call(channel: MessengerChannel, api: MessengerEmulator, recipient: str,
                                                 text: str, code: str) -> None:
    before = len(api.calls)
    with pytest.raises(SendError) as raised:
        await channel.send(out(text, recipient))
    assert (raised.value.retryable, raised.value.code) == (False, code)
    assert len(api.calls) == before


# -- media -----------------------------------------------------------------------------------------

async def test_media_from_an_allowed_host(channel: MessengerChannel, api: MessengerEmulator) -> None:
    url = api.add_media(b"\xff\xd8photo", "image/jpeg")
    fetched = await channel.fetch_media(MediaRef(url, "image/jpeg"), 1024)
    assert (fetched.content, fetched.content_type) == (b"\xff\xd8photo", "image/jpeg")
    audio = api.add_media(b"voice", "application/octet-stream")
    assert (await channel.fetch_media(MediaRef(audio, "audio/mp4"), 1024)).content_type == "audio/mp4"


async def test_media_redirect_within_allowed_hosts(channel: MessengerChannel, api: MessengerEmulator) -> None:
    url = api.add_media(b"\xff\xd8photo")
    assert (await channel.fetch_media(MediaRef(api.redirect(url), "image/jpeg"), 1024)).content == b"\xff\xd8photo"


@pytest.mark.parametrize(("where", "reason", "retryable"), [
    ("foreign", "foreign_host", False),
    ("redirect to foreign", "foreign_host", False),
    ("too large", "too_large", False),
    ("expired", "not_found", False),
])
async def test_media_refused(channel: MessengerChannel, api: MessengerEmulator, where: str, reason: str,
                             retryable: bool) -> None:
    gets = api.media_gets
    url = {
        "foreign": "https://evil.example/x.jpg",
        "redirect to foreign": api.redirect("https://evil.example/x.jpg"),
        "too large": api.add_media(b"x" * 5000),
        "expired": f"{api.url}/media/gone",
    }[where]
    with pytest.raises(MediaError) as raised:
        await channel.fetch_media(MediaRef(url, "image/jpeg"), 1024)
    assert (raised.value.reason, raised.value.retryable) == (reason, retryable)
    if where == "foreign":
        assert api.media_gets == gets, "nothing was requested"


async def test_media_host_down_is_retryable() -> None:
    adapter = MessengerChannel.from_settings(channel_settings({**ENV, "MESSENGER_MEDIA_HOSTS": "127.0.0.1:9"}))
    try:
        with pytest.raises(MediaError) as raised:
            await adapter.fetch_media(MediaRef("http://127.0.0.1:9/media/x", "image/jpeg"), 1024)
    finally:
        await adapter.aclose()
    assert (raised.value.reason, raised.value.retryable) == ("unavailable", True)
