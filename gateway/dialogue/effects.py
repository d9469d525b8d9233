"""Carry out what the dialogue asked for, against the case store, and answer with events.

Runs in the store's thread pool. Every effect is safe to repeat: filing is keyed by the inbound
message that confirmed it, so a replayed message never files a second case.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from conversations import model as m
from core.lifecycle import ANSWERED
from core.phones import normalize_phone
from core.store.case_store import CaseStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EffectScope:
    """Who and where the effects are for."""

    channel: str
    contact_id: int
    channel_address: str
    source_message_id: int | None
    now: datetime


def apply_effects(store: CaseStore, effects: Iterable[m.Effect], scope: EffectScope) -> list[m.Event]:
    """Apply each effect in order; the events they answer with, for the dialogue's next step."""
    events: list[m.Event] = []
    try:
        for effect in effects:
            event = _apply(store, effect, scope)
            if event is not None:
                events.append(event)
    except SQLAlchemyError:
        log.exception("case store failed while applying %s", type(effect).__name__)
        events.append(m.ServiceUnavailable(at=scope.now))
    return events


def _administration_names(store: CaseStore, code: str | None) -> dict[str, str]:
    for administration in store.deployment.administrations:
        if administration.code == code:
            return dict(administration.names)
    return {}


def _apply(store: CaseStore, effect: m.Effect, scope: EffectScope) -> m.Event | None:
    now = scope.now
    match effect:
        case m.CreateCase(draft=draft):
            if draft.check_duplicates and not draft.duplicate_of and draft.lat is not None and draft.lon is not None:
                nearby = store.nearby_case(draft.category, draft.lat, draft.lon, now)
                if nearby is not None:
                    return m.DuplicateFound(nearby.reference, nearby.status, now)
            record = store.create_case(
                kind=draft.kind,
                category_code=draft.category,
                description=draft.description,
                location_text=draft.location_text,
                lat=draft.lat,
                lon=draft.lon,
                language=draft.language,
                anonymous=draft.anonymous,
                name=draft.name,
                contact_id=scope.contact_id,
                origin_channel=scope.channel,
                channel_address=scope.channel_address,
                source_message_id=scope.source_message_id,
                now=now,
            )
            if draft.attachment_ids:
                store.attach_to_case(record.id, draft.attachment_ids, "citizen", now)
            if draft.callback:
                number = normalize_phone(draft.callback, store.deployment.default_region) or draft.callback
                store.add_case_note(record.id, f"callback: {number}", "citizen", now)
            followed = None
            if draft.duplicate_of:
                original = store.get_case_by_id(store.mark_duplicate(record.reference, draft.duplicate_of, "citizen",
                                                                     now).duplicate_of_id or 0)
                followed = original.reference if original is not None else draft.duplicate_of
            return m.CaseCreated(record.reference, _administration_names(store, record.administration_code), now,
                                 followed=followed)
        case m.LookupCase(reference=reference):
            found = store.get_case(reference)
            if found is None:
                return m.CaseNotFound(reference, now)
            rateable = found.contact_id == scope.contact_id and found.status == ANSWERED and found.rating is None
            return m.CaseFound(reference, found.status, found.updated_at, now, rateable=rateable)
        case m.ListOpenCases(limit=limit):
            listed = store.open_cases_for_contact(scope.contact_id, limit)
            return m.OpenCasesFound(tuple(m.OpenCase(case.reference, case.status) for case in listed), now)
        case m.RateCase(reference=reference, rating=rating):
            store.rate_case(reference, rating, now)
            return m.RatingRecorded(reference, rating, now)
        case m.ReopenCase(reference=reference, reason=reason, attachment_ids=ids):
            result = store.reopen_case(reference, reason, now)
            if result == "reopened":
                if ids:
                    store.attach_media(reference, scope.contact_id, ids, now)
                return m.CaseReopened(reference, now)
            return m.ReopenRefused(reference, result, now)
        case m.AttachMedia(reference=reference, attachment_ids=ids):
            added = store.attach_media(reference, scope.contact_id, ids, now)
            if added is None:
                return m.CaseNotFound(reference, now)
            return m.MediaAttached(reference, len(ids), now)
        case m.CloseCase(reference=reference):
            store.close_case(reference, "citizen", now)
            return None
        case m.RequestAgent(reason=reason):
            store.request_agent(scope.channel, scope.contact_id, reason, now)
            return None
        case m.LinkPhone(phone=phone):
            return m.PhoneLinked(store.link_phone(scope.contact_id, phone) if phone else "invalid", now)
        case m.SetLanguage(language=language):
            store.set_language(scope.contact_id, language)
            return None
    raise TypeError(f"unknown effect {effect!r}")
