"""Channel-agnostic guided dialogues: pure `step(session, input, context) -> Outcome`."""
