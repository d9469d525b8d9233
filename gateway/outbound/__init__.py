"""The sending side: work lanes in Redis, the worker, sends and notices, media downloads, fallbacks, catch-up."""
