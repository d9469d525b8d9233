"""One problem reported by many people is one problem, over WhatsApp end to end (real route, Redis,
both SQL stores, a worker and the Twilio emulator): a second citizen pinning the same overflowing bins
80 m from a first report is offered that case, follows it and is told when it is answered (never asked
to rate it); a third, 400 m away, files a case of their own."""

from __future__ import annotations

import json
import secrets

from conversations.catalog import text
from core import references
from tests.fixtures.gateway import Gateway
from tests.gateway.conftest import Hotline, reference_in, say_text
from tests.gateway.whatsapp_kit import WhatsAppCitizen, whatsapp_citizen


def report(citizen: WhatsAppCitizen, lat: float, lon: float, name: str) -> list[str]:
    """A waste complaint in French with a pin, up to its confirmation; the replies to the confirmation."""
    citizen.send("Bonjour")
    citizen.send("1")
    citizen.send("1")
    citizen.send("Les poubelles débordent sur le trottoir depuis trois jours")
    citizen.pin(lat, lon, "Marché municipal")
    citizen.send(name)
    return citizen.send("1")


def north(lat: float, lon: float, metres: float) -> tuple[float, float]:
    return lat + metres / 111_195.0, lon


def test_a_second_report_nearby_follows_the_first(gateway: Gateway, hotline: Hotline) -> None:
    lat, lon = 34.2 + secrets.randbelow(10**5) / 10**6, -6.5 - secrets.randbelow(10**5) / 10**6
    first, second, third = whatsapp_citizen(gateway), whatsapp_citizen(gateway), whatsapp_citizen(gateway)
    original = reference_in(report(first, lat, lon, "Karim"))

    offered = "\n".join(report(second, *north(lat, lon, 80), "Salma"))
    shown = references.display(original)
    assert shown in offered and say_text(gateway, "fr", "opt_follow") in offered
    followed = "\n".join(second.send("1"))
    assert say_text(gateway, "fr", "case_followed", reference=shown) in followed

    own = "\n".join(report(third, *north(lat, lon, 400), "Youssef"))
    assert say_text(gateway, "fr", "opt_follow") not in own
    separate = reference_in([own])
    assert separate != original

    code, out, err = hotline("case", "show", original, "--json")
    assert code == 0, err
    document = json.loads(out)
    assert len(document["duplicates"]) == 1
    duplicate = json.loads(hotline("case", "show", document["duplicates"][0], "--json")[1])
    assert duplicate["duplicate_of"] == original and duplicate["status"] == "closed"
    assert duplicate["contact"]["name"] == "Salma"
    assert "duplicate_added" in [e["kind"] for e in document["events"]], "the second report's words reached staff"

    hotline("case", "set-status", original, "in_progress", "--note", "Camion demandé")
    hotline("case", "set-status", original, "answered", "--note", "Bennes vidées et trottoir nettoyé")
    answered = say_text(gateway, "fr", "status_answered")
    gateway.run_jobs(until=lambda: any("trottoir nettoyé" in body for body in second.inbox())
                     and any("trottoir nettoyé" in body for body in first.inbox()))
    told = [body for body in second.inbox() if shown in body]
    assert any(answered in body and "trottoir nettoyé" in body for body in told), told
    assert len([body for body in second.inbox() if "trottoir nettoyé" in body]) == 1, "told once"
    rating = text("fr", "ask_rating", gateway.runtime.dialogue_for(gateway.number), reference=shown)
    assert not any(rating in body for body in second.inbox()), "a follower is not asked to rate the case"
    assert any(rating in body for body in first.inbox()), "the reporter is"
    assert not any("trottoir nettoyé" in body for body in third.inbox())
