"""One process's composition: the phone region is decided in one place and every part uses it."""

from __future__ import annotations

import pytest

from core.config import ConfigError
from gateway.runtime import build_runtime
from gateway.settings import Settings


def test_the_region_given_in_the_environment_is_the_one_everything_uses(fresh_database_url: str) -> None:
    runtime = build_runtime(Settings.from_env({"HOTLINE_DATABASE_URL": fresh_database_url,
                                               "HOTLINE_DEFAULT_REGION": "eg"}))
    try:
        assert runtime.deployment.default_region == "EG"
        assert runtime.channel_settings.region == "EG"
        assert {runtime.adapter(name).settings.default_region for name in ("sms", "whatsapp", "telegram", "ivr")} == {
            "EG"}
        contact = runtime.store.get_or_create_contact("01001234567")
        assert contact.phone == "+201001234567", "a local Egyptian number, read in the one region"
    finally:
        runtime.close()


def test_without_it_the_configuration_decides(fresh_database_url: str) -> None:
    runtime = build_runtime(Settings.from_env({"HOTLINE_DATABASE_URL": fresh_database_url}))
    try:
        assert runtime.deployment.default_region == "MA" == runtime.channel_settings.region
    finally:
        runtime.close()


def test_an_unknown_region_is_refused_with_its_name(fresh_database_url: str) -> None:
    with pytest.raises(ConfigError, match="HOTLINE_DEFAULT_REGION: unknown region 'XX'"):
        build_runtime(Settings.from_env({"HOTLINE_DATABASE_URL": fresh_database_url, "HOTLINE_DEFAULT_REGION": "xx"}))
