"""Understanding what citizens write: option labels, and (with its classifier) intents and categories."""
