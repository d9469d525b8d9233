"""Twilio Voice: the hotline by phone (keypad menus, recordings, transfer to an agent)."""
