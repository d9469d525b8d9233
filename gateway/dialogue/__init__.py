"""The dialogue wired to the world: sessions in Redis, one turn with its effects, and what the bot said recorded."""
