"""The `hotline` command and what only it does (starting a local Redis, the terminal demo, webhook registration)."""
