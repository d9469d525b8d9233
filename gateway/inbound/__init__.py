"""The inbound path: a verified webhook recorded, deduplicated, run through the dialogue and answered; calls too."""
