"""The conversations API end to end over SMS: a citizen asks for a person, an agent takes over (the bot
goes quiet), writes (the Twilio emulator receives it), retries a failed message, files the case,
hands back; stalled complaints reach the queue after one reminder; stale conversations are closed."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from conversations.catalog import text
from core import references
from gateway.staff.desk import Desk
from tests.emulators.twilio import ScriptedFailure
from tests.fixtures.gateway import Citizen
from tests.gateway.conftest import reference_in
from tests.gateway.staff.conftest import Console


def say(console: Console, lang: str, key: str, **values: str) -> str:
    """A dialogue text as this gateway renders it."""
    return text(lang, key, console.gateway.runtime.dialogue_for(console.gateway.number), **values)


def waiting_citizen(console: Console) -> tuple[Citizen, int]:
    """A citizen who asked for a person mid-complaint (French), and their conversation id."""
    citizen = console.gateway.citizen()
    citizen.say("Bonjour")
    citizen.say("1")
    citizen.say("2")
    citizen.say("Le lampadaire devant l'école est éteint depuis une semaine")
    replies = citizen.say("agent")
    assert say(console, "fr", "agent_requested") in "\n".join(replies)
    return citizen, console.conversation_of(citizen)


def inbox_after_jobs(console: Console, citizen: Citizen, count: int) -> list[str]:
    """Run the jobs until the emulator has `count` messages for the citizen; their bodies."""
    console.gateway.run_jobs(until=lambda: len(citizen.inbox()) >= count)
    return citizen.inbox()


def test_agent_takes_over_writes_files_and_hands_back(console: Console) -> None:
    citizen, conversation_id = waiting_citizen(console)

    listed = console.api("GET", "/api/v1/conversations?needs_person=1", "agent").json()
    item = next(c for c in listed["conversations"] if c["id"] == conversation_id)
    assert item["status"] == "needs_person" and item["reason"] == "asked" and item["channel"] == "sms"
    assert citizen.phone not in str(item), "the list masks the phone number"

    taken = console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", "agent")
    assert taken.status_code == 200 and taken.json()["result"] == "taken"
    again = console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", "agent")
    assert again.json()["result"] == "already_yours"
    other = console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", "agent2")
    assert other.status_code == 409 and other.json()["error"] == "held"
    blocked = console.api("POST", f"/api/v1/conversations/{conversation_id}/messages", "agent2", {"text": "hi"})
    assert blocked.status_code == 409 and blocked.json()["error"] == "held_by_another"

    assert citizen.say("Allô ? Il y a quelqu'un ?") == [], "the bot stays silent while a person holds it"
    assert citizen.say("menu") == []

    sent = console.api("POST", f"/api/v1/conversations/{conversation_id}/messages", "agent",
                       {"text": "Bonjour, je suis Amina. Quelle rue exactement ?"})
    assert sent.status_code == 202, sent.text
    inbox = inbox_after_jobs(console, citizen, 1)
    assert inbox[-1] == "Bonjour, je suis Amina. Quelle rue exactement ?"

    detail = console.api("GET", f"/api/v1/conversations/{conversation_id}", "agent").json()
    assert detail["contact"]["phone"] == citizen.phone
    assert detail["dialogue"]["state"] == "handoff"
    assert detail["dialogue"]["draft"]["category"] == "lighting"
    assert "lampadaire" in detail["dialogue"]["draft"]["description"]
    bodies = [(line["direction"], line["body"]) for line in detail["transcript"]]
    assert ("in", "Allô ? Il y a quelqu'un ?") in bodies
    mine = next(line for line in detail["transcript"] if line["id"] == sent.json()["id"])
    assert mine["agent"] == console.staff["agent"].username and mine["status"] in ("accepted", "sent")

    citizen.say("Rue Al Massira, devant l'école")
    filed = console.api("POST", f"/api/v1/conversations/{conversation_id}/case", "agent",
                        {"location_text": "Rue Al Massira, devant l'école", "name": "Fatima"})
    assert filed.status_code == 201, filed.text
    reference = filed.json()["reference"]
    inbox = inbox_after_jobs(console, citizen, 2)
    assert references.display(reference) in inbox[-1]
    twice = console.api("POST", f"/api/v1/conversations/{conversation_id}/case", "agent", {})
    assert twice.status_code == 409

    case = console.api("GET", f"/api/v1/cases/{reference}", "officer").json()
    assert case["category"] == "lighting" and case["contact"]["name"] == "Fatima"
    assert case["location"]["text"] == "Rue Al Massira, devant l'école"

    back = console.api("POST", f"/api/v1/conversations/{conversation_id}/handback", "agent", {"step": "menu"})
    assert back.status_code == 200, back.text
    inbox = inbox_after_jobs(console, citizen, 4)
    assert say(console, "fr", "agent_handback") in "\n".join(inbox[2:])
    assert say(console, "fr", "menu_intro") in "\n".join(inbox[2:])
    assert console.api("GET", f"/api/v1/conversations/{conversation_id}", "agent").json()["status"] == "closed"
    assert say(console, "fr", "menu_intro") in "\n".join(citizen.say("menu")), "the bot answers again"


def test_agents_read_the_cases_they_filed_and_those_of_the_citizen_they_serve(console: Console) -> None:
    """An agent on the phone with a citizen can answer "where is my complaint?": while they hold the
    citizen's conversation they read that citizen's cases, and they keep reading the cases they filed;
    nobody else's, and identity rules are unchanged (an anonymous case shows no contact)."""
    citizen = console.gateway.citizen()
    earlier = reference_in([citizen.say(m) for m in ("Les poubelles débordent rue Ibn Sina depuis cinq jours",
                                                     "0", "1")][-1])
    assert console.api("GET", f"/api/v1/cases/{earlier}", "agent").status_code == 404, "not their citizen yet"
    citizen.say("agent")
    conversation_id = console.conversation_of(citizen)
    assert console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", "agent").status_code == 200
    seen = console.api("GET", f"/api/v1/cases/{earlier}", "agent")
    assert seen.status_code == 200, seen.text
    assert seen.json()["reference"] == earlier and seen.json()["contact"]["phone"] is None
    assert console.api("GET", f"/api/v1/cases/{earlier}", "agent2").status_code == 404, "another agent's citizen"

    filed = console.api("POST", f"/api/v1/conversations/{conversation_id}/case", "agent",
                        {"category": "water", "description": "Fuite d'eau devant la maison", "anonymous": True})
    assert filed.status_code == 201, filed.text
    mine = filed.json()["reference"]
    assert console.api("POST", f"/api/v1/conversations/{conversation_id}/handback", "agent",
                       {"step": "menu"}).status_code == 200
    assert console.api("GET", f"/api/v1/cases/{mine}", "agent").status_code == 200, "the case they filed"
    assert console.api("GET", f"/api/v1/cases/{earlier}", "agent").status_code == 404, "no longer serving"
    assert console.api("GET", f"/api/v1/cases/{mine}", "agent2").status_code == 404


def test_a_failed_message_is_retried_and_really_resent(console: Console) -> None:
    citizen, conversation_id = waiting_citizen(console)
    console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", "agent2")
    console.gateway.twilio.fail_next(citizen.phone, ScriptedFailure(400, 21211, "invalid To"))
    sent = console.api("POST", f"/api/v1/conversations/{conversation_id}/messages", "agent2", {"text": "Essai"})
    message_id = sent.json()["id"]
    store = console.gateway.runtime.store
    console.gateway.run_jobs(until=lambda: store.message_status(message_id)["status"] == "failed")
    line = next(x for x in console.api("GET", f"/api/v1/conversations/{conversation_id}", "agent2").json()[
        "transcript"] if x["id"] == message_id)
    assert line["status"] == "failed" and line["error_code"] == "21211"
    assert citizen.inbox() == []

    path = f"/api/v1/conversations/{conversation_id}/messages/{message_id}/retry"
    assert console.api("POST", path, "agent").status_code == 409, "only the holder retries"
    assert console.api("POST", path, "agent2").status_code == 202
    assert inbox_after_jobs(console, citizen, 1) == ["Essai"]
    assert console.api("POST", path, "agent2").json()["error"] == "not_failed"
    console.api("POST", f"/api/v1/conversations/{conversation_id}/close", "agent2")
    inbox = inbox_after_jobs(console, citizen, 2)
    assert say(console, "fr", "conversation_closed") in inbox[-1]


def test_capacity_and_the_oldest_waiting_is_offered(console: Console) -> None:
    agent = console.add_staff("agent")
    first = [waiting_citizen(console)[1] for _ in range(3)]
    queue = console.api("GET", "/api/v1/conversations?needs_person=1", agent.username).json()
    waiting = [c["id"] for c in queue["conversations"]]
    assert waiting.index(first[0]) < waiting.index(first[1]) < waiting.index(first[2]), "oldest first"
    assert [c["id"] for c in queue["conversations"] if c["offered"]] == [waiting[0]]
    taken = [console.api("POST", "/api/v1/conversations/next", agent.username).json()["id"] for _ in range(2)]
    assert taken == waiting[:2]
    full = console.api("POST", f"/api/v1/conversations/{waiting[2]}/takeover", agent.username)
    assert full.status_code == 409 and full.json()["error"] == "at_capacity"
    assert not any(c["offered"] for c in console.api("GET", "/api/v1/conversations", agent.username).json()[
        "conversations"]), "a full agent is offered nothing"
    console.api("POST", f"/api/v1/conversations/{taken[0]}/handback", agent.username, {"step": "resume"})
    assert console.api("POST", f"/api/v1/conversations/{waiting[2]}/takeover", agent.username).status_code == 200
    forced = console.api("POST", f"/api/v1/conversations/{waiting[2]}/takeover", "supervisor", {"force": True})
    assert forced.json()["result"] == "taken", "a supervisor may reassign"
    for conversation_id in (taken[1], waiting[2]):
        console.api("POST", f"/api/v1/conversations/{conversation_id}/close", "supervisor")


def test_a_stalled_complaint_is_reminded_once_then_queued(console: Console) -> None:
    citizen = console.gateway.citizen()
    citizen.say("Bonjour")
    citizen.say("1")
    citizen.say("2")
    asked = citizen.say("Le lampadaire est cassé")
    console.gateway.run_jobs(until=lambda: len(citizen.inbox()) >= 2, timeout=20)
    reminder = "\n".join(citizen.inbox()[:2])
    assert say(console, "fr", "stall_reminder") in reminder
    assert asked[-1].splitlines()[0] in reminder, "the reminder asks the pending question again"
    console.gateway.run_jobs(until=lambda: len(citizen.inbox()) >= 3, timeout=20)
    assert say(console, "fr", "agent_requested") in citizen.inbox()[2]
    conversation_id = console.conversation_of(citizen)
    listed = console.api("GET", "/api/v1/conversations?needs_person=1", "agent").json()["conversations"]
    assert next(c for c in listed if c["id"] == conversation_id)["reason"] == "stalled"
    time.sleep(1)
    console.gateway.run_jobs()
    assert len(citizen.inbox()) == 3, "no second reminder"
    console.api("POST", f"/api/v1/conversations/{conversation_id}/close", "agent")


def test_three_misunderstood_replies_queue_the_conversation(console: Console) -> None:
    citizen = console.gateway.citizen()
    citizen.say("Bonjour")
    for odd in ("xx", "yy", "zz"):
        citizen.say(odd)
    conversation_id = console.conversation_of(citizen)
    detail = console.api("GET", f"/api/v1/conversations/{conversation_id}", "agent").json()
    assert detail["reason"] == "misunderstood" and detail["status"] == "needs_person"
    console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", "agent")
    assert citizen.say("xx") == [], "once taken over, the bot is quiet"
    console.api("POST", f"/api/v1/conversations/{conversation_id}/handback", "agent", {"step": "resume"})


def test_waiting_and_abandoned_conversations_are_closed_with_a_message(console: Console) -> None:
    waiting, waiting_id = waiting_citizen(console)
    abandoned, abandoned_id = waiting_citizen(console)
    console.api("POST", f"/api/v1/conversations/{abandoned_id}/takeover", "supervisor")
    desk: Desk = console.desk
    later = datetime.now(UTC) + timedelta(hours=9)
    assert console.run(desk.close_stale(later)) >= 2
    for citizen, conversation_id, reason in ((waiting, waiting_id, "waiting_too_long"),
                                             (abandoned, abandoned_id, "abandoned")):
        detail = console.api("GET", f"/api/v1/conversations/{conversation_id}", "supervisor").json()
        assert (detail["status"], detail["closed_reason"]) == ("closed", reason)
        inbox = inbox_after_jobs(console, citizen, 1)
        assert say(console, "fr", "conversation_closed") in inbox[-1]


def test_the_collected_panel_shows_the_filed_case(console: Console) -> None:
    _, conversation_id = waiting_citizen(console)
    console.api("POST", f"/api/v1/conversations/{conversation_id}/takeover", "agent")
    filed = console.api("POST", f"/api/v1/conversations/{conversation_id}/case", "agent",
                        {"location_text": "Rue 5", "name": "Fatima"})
    assert filed.status_code == 201, filed.text
    draft = console.api("GET", f"/api/v1/conversations/{conversation_id}", "agent").json()["dialogue"]["draft"]
    assert draft["description"] == "Le lampadaire devant l'école est éteint depuis une semaine"
    assert (draft["category"], draft["location_text"], draft["name"]) == ("lighting", "Rue 5", "Fatima"), \
        "after filing, the panel shows what was filed rather than nothing"
    console.api("POST", f"/api/v1/conversations/{conversation_id}/close", "agent")
