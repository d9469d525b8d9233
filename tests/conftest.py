"""Session fixtures: a real Redis, both SQL stores, the provider emulators, a running gateway."""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.redis_server",
    "tests.fixtures.providers",
    "tests.fixtures.gateway",
]
