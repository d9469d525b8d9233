"""`hotline check-config` on good and bad configurations: the real command, a table of environments and
YAML files -> exit code and the phrase of the finding an operator must read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.config import ConfigError, default_config_path, load_config
from core.db import make_engine, migrate
from gateway.cli.main import main
from tests.fixtures.redis_server import free_port

EGYPT = str(default_config_path().with_name("egypt-shakwa.yaml"))
SID = "AC" + "0123456789abcdef" * 2
TWILIO = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "f" * 32, "TWILIO_SMS_FROM": "+212600000000"}
TELEGRAM = {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35, "TELEGRAM_WEBHOOK_SECRET": "s3cret_token-1"}
MESSENGER = {"MESSENGER_PAGE_TOKEN": "page", "MESSENGER_APP_SECRET": "app", "MESSENGER_VERIFY_TOKEN": "verify"}
PUBLIC = {"HOTLINE_PUBLIC_URL": "https://hotline.example.org", "HOTLINE_TRUSTED_PROXIES": "10.0.0.0/24",
          "HOTLINE_CONFIG": str(default_config_path()),
          "HOTLINE_DATABASE_URL": "postgresql://hotline:pw@db.internal:5432/hotline"}
PREFIXES = ("HOTLINE_", "TWILIO_", "TELEGRAM_", "MESSENGER_")


@pytest.fixture
def check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `hotline check-config ARGS` in an empty directory with exactly the environment `env`."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith(PREFIXES):
            monkeypatch.delenv(key)

    def run(env: dict[str, str], *args: str) -> tuple[int, str]:
        for key in list(os.environ):
            if key.startswith(PREFIXES):
                monkeypatch.delenv(key)
        for key, value in {"HOTLINE_MEDIA_DIR": str(tmp_path / "media"), **env}.items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        code = main(["check-config", *args])
        return code, capsys.readouterr().out

    return run


def _file(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return str(path)


CASES = [
    ("local defaults", {}, 0, "no provider is configured"),
    ("every provider, behind a proxy", {**PUBLIC, **TWILIO, **TELEGRAM, **MESSENGER}, 0, "ready: 0 errors, 0 warnings"),
    ("Twilio without its token", {**PUBLIC, "TWILIO_ACCOUNT_SID": SID}, 1, "but TWILIO_AUTH_TOKEN missing"),
    ("a sender without the account", {**PUBLIC, "TWILIO_SMS_FROM": "+212600000000"}, 1,
     "TWILIO_SMS_FROM set but TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN missing"),
    ("Telegram without its webhook secret", {**PUBLIC, "TELEGRAM_BOT_TOKEN": TELEGRAM["TELEGRAM_BOT_TOKEN"]}, 1,
     "but TELEGRAM_WEBHOOK_SECRET missing"),
    ("Messenger with only the page token", {**PUBLIC, "MESSENGER_PAGE_TOKEN": "page"}, 1,
     "but MESSENGER_APP_SECRET, MESSENGER_VERIFY_TOKEN missing"),
    ("a malformed account SID", {**PUBLIC, **TWILIO, "TWILIO_ACCOUNT_SID": "AC123"}, 1, "AC followed by 32"),
    ("a webhook secret Telegram refuses", {**PUBLIC, **TELEGRAM, "TELEGRAM_WEBHOOK_SECRET": "has spaces"}, 1,
     "1 to 256 of"),
    ("a provider and no public URL", {**TWILIO}, 1, "HOTLINE_PUBLIC_URL: not set while a provider is configured"),
    ("a public URL over http", {**PUBLIC, **TWILIO, "HOTLINE_PUBLIC_URL": "http://hotline.example.org"}, 1,
     "is not https"),
    ("a public URL that is no URL", {**PUBLIC, **TWILIO, "HOTLINE_PUBLIC_URL": "hotline.example.org"}, 1,
     "is not a URL"),
    ("no trusted proxies behind https", {**PUBLIC, **TWILIO, "HOTLINE_TRUSTED_PROXIES": ""}, 0,
     "warning HOTLINE_TRUSTED_PROXIES: not set behind an https proxy"),
    ("trusted proxies that are not addresses", {**PUBLIC, "HOTLINE_TRUSTED_PROXIES": "10.0.0.1,proxy.lan"}, 1,
     "not addresses or networks: proxy.lan"),
    ("sign-in attempts not a number", {"HOTLINE_LOGIN_ATTEMPTS": "many"}, 1, "HOTLINE_LOGIN_ATTEMPTS"),
    ("a configuration file that is not there", {"HOTLINE_CONFIG": "/nonexistent/hotline.yaml"}, 1, "cannot read"),
    ("an unknown phone region", {"HOTLINE_DEFAULT_REGION": "XX"}, 1, "unknown region 'XX'"),
    ("the packaged example in production", {**PUBLIC, **TWILIO, "HOTLINE_CONFIG": ""}, 0,
     "warning HOTLINE_CONFIG: not set"),
    ("profiles whose numbers are no sender", {**PUBLIC, **TWILIO, "HOTLINE_CONFIG": EGYPT}, 0,
     "warning profile 16528: matches no configured sender (+212600000000)"),
    ("a database URL that does not parse", {"HOTLINE_DATABASE_URL": "not a url"}, 1, "does not parse"),
    ("a database nobody supports", {"HOTLINE_DATABASE_URL": "mysql://u:p@h/db"}, 1, "mysql is not supported"),
    ("an in-memory SQLite", {"HOTLINE_DATABASE_URL": "sqlite://"}, 1, "in-memory SQLite"),
    ("SQLite in production", {**PUBLIC, **TWILIO, "HOTLINE_DATABASE_URL": "sqlite:///var/hotline.db"}, 0,
     "SQLite serves one machine only"),
    ("a Redis URL that does not parse", {"HOTLINE_REDIS_URL": "http://redis:6379"}, 1,
     "HOTLINE_REDIS_URL: does not parse"),
    ("a voice settings file that is not there", {"HOTLINE_IVR_CONFIG": "/nonexistent/ivr.yaml"}, 1,
     "cannot be built"),
]


@pytest.mark.parametrize(("env", "code", "phrase"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_check_config_says_what_is_missing(check, env: dict[str, str], code: int, phrase: str) -> None:  # type: ignore[no-untyped-def]
    got, out = check(env)
    assert phrase in out, out
    assert got == code, out
    assert out.splitlines()[-1].startswith("not ready" if code else "ready"), out
    for secret in (TWILIO["TWILIO_AUTH_TOKEN"], TELEGRAM["TELEGRAM_WEBHOOK_SECRET"], "pw@"):
        assert secret not in out, "no secret is printed"


@pytest.mark.parametrize(("text", "phrase"), [
    ("administrations: [\n", "not valid YAML"),
    ("name: x\nadministrations: nope\n", None),
], ids=["not YAML", "not a deployment"])
def test_a_bad_yaml_is_reported_with_its_config_error_verbatim(check, tmp_path: Path, text: str,  # type: ignore[no-untyped-def]
                                                               phrase: str | None) -> None:
    path = _file(tmp_path, "hotline.yaml", text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    code, out = check({"HOTLINE_CONFIG": path})
    assert code == 1
    assert f"error   HOTLINE_CONFIG: {raised.value}" in out
    assert phrase is None or phrase in out


def test_media_dir_and_sqlite_directory_must_be_directories(check, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = _file(tmp_path, "blocker", "")
    code, out = check({"HOTLINE_MEDIA_DIR": blocker, "HOTLINE_DATABASE_URL": f"sqlite:///{blocker}/sub/hotline.db"})
    assert code == 1
    assert f"HOTLINE_MEDIA_DIR: {blocker} is not a directory" in out
    assert "HOTLINE_DATABASE_URL" in out and "is not writable" in out


def test_json_lists_the_findings(check) -> None:  # type: ignore[no-untyped-def]
    code, out = check({**PUBLIC, "TWILIO_ACCOUNT_SID": SID}, "--json")
    document = json.loads(out)
    assert code == 1 and document["ready"] is False and document["errors"] >= 1
    assert {"level": "error", "subject": "Twilio (SMS, WhatsApp, voice)"}.items() <= document["findings"][1].items()


def test_connect_checks_the_database_is_migrated_and_redis_answers(check, fresh_database_url: str,  # type: ignore[no-untyped-def]
                                                                   redis_url: str) -> None:
    env = {"HOTLINE_DATABASE_URL": fresh_database_url, "HOTLINE_REDIS_URL": redis_url}
    engine = make_engine(fresh_database_url, poolclass=sa.pool.NullPool)
    if engine.dialect.name == "sqlite":
        code, out = check(env, "--connect")
        assert code == 1 and "no database at" in out and "run `hotline migrate`" in out, out
    migrate(engine, "0001")
    code, out = check(env, "--connect")
    assert code == 1 and "schema at 0001, the newest is" in out, out
    assert main(["migrate"]) == 0
    code, out = check(env, "--connect")
    assert code == 0, out
    assert "answers, schema at the newest revision" in out and "HOTLINE_REDIS_URL: answers PING" in out


def test_connect_says_when_nothing_answers(check) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    code, out = check({"HOTLINE_DATABASE_URL": f"postgresql://hotline:pw@127.0.0.1:{port}/hotline",
                       "HOTLINE_REDIS_URL": f"redis://127.0.0.1:{port}/0"}, "--connect")
    assert code == 1
    assert f"postgresql+psycopg://hotline:***@127.0.0.1:{port}/hotline does not answer" in out, out
    assert "HOTLINE_REDIS_URL: does not answer PING" in out
