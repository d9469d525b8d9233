"""One turn of the dialogue with its effects: step, apply effects, feed their events back, repeat."""

from __future__ import annotations

from conversations import model as m
from conversations.engine import step
from gateway.dialogue.effects import EffectScope, apply_effects
from gateway.runtime import Runtime

MAX_ROUNDS = 6
"""Effects answer with events that may ask for more effects; a dialogue needs two or three rounds."""


async def run_turn(
    runtime: Runtime, session: m.Session, given: m.Input, context: m.DialogueContext, scope: EffectScope
) -> tuple[m.Session, list[m.Say]]:
    """The session after `given`, and everything to say to the citizen."""
    outcome = step(session, given, context)
    replies = list(outcome.replies)
    for _ in range(MAX_ROUNDS):
        if not outcome.effects:
            break
        events = await runtime.db(apply_effects, runtime.store, outcome.effects, scope)
        session, effects = outcome.session, ()
        for event in events:
            outcome = step(session, event, context)
            replies.extend(outcome.replies)
            session = outcome.session
            effects += outcome.effects
        outcome = m.Outcome(session, (), effects)
    return outcome.session, replies
