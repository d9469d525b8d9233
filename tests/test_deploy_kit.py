"""The deploy kit, checked without a Docker engine: the compose file, the proxy, the Dockerfile and the
systemd units say what deploy/README.md promises, and the image's build and entry steps are replayed
here (the Dockerfile's COPY set built into a wheel, installed apart from the repository, then the
commands the compose file's `migrate` service runs, against SQLite)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
HOTLINE_SERVICES = ("migrate", "gateway-1", "gateway-2", "worker-1", "worker-2")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def copied_paths() -> list[str]:
    """The build-context paths the Dockerfile COPYs (not those copied from another stage)."""
    paths = []
    for instruction, arguments in dockerfile_instructions():
        if instruction == "COPY" and not arguments.startswith("--from"):
            paths.extend(arguments.split()[:-1])
    return paths


def test_compose_runs_the_stores_two_gateways_two_workers_and_a_proxy(compose: dict) -> None:
    assert set(compose["services"]) == {"postgres", "redis", "proxy", *HOTLINE_SERVICES}
    services = compose["services"]
    for name in HOTLINE_SERVICES:
        assert services[name]["image"] == services["gateway-1"]["image"]
        assert services[name]["command"][0] in ("hotline", "sh")
    assert services["gateway-1"]["command"][:2] == services["gateway-2"]["command"][:2] == ["hotline", "serve"]
    assert services["worker-1"]["command"] == services["worker-2"]["command"] == ["hotline", "worker"]
    assert "hotline check-config && hotline migrate" in services["migrate"]["command"][-1]
    for name in ("gateway-1", "gateway-2", "worker-1", "worker-2"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "ports" not in services["gateway-1"], "only the proxy is reachable from outside"


def test_every_gateway_and_worker_gets_the_same_environment_and_media(compose: dict) -> None:
    services = compose["services"]
    first = services["gateway-1"]
    for name in HOTLINE_SERVICES:
        assert services[name]["environment"] == first["environment"]
        assert services[name]["env_file"] == first["env_file"] == ".env"
        assert "media:/var/lib/hotline/media" in services[name]["volumes"]
    env = first["environment"]
    assert env["HOTLINE_DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["HOTLINE_DATABASE_URL"]
    assert env["HOTLINE_REDIS_URL"] == "redis://redis:6379/0"
    assert env["HOTLINE_PUBLIC_URL"].startswith("https://${HOTLINE_DOMAIN")
    proxy_address = services["proxy"]["networks"]["hotline"]["ipv4_address"]
    assert env["HOTLINE_TRUSTED_PROXIES"] == proxy_address, "sign-in throttling sees clients, not the proxy"


def test_health_is_checked_on_healthz_and_the_stores_before_anything_starts(compose: dict) -> None:
    services = compose["services"]
    for name in ("gateway-1", "gateway-2"):
        assert "/healthz" in " ".join(services[name]["healthcheck"]["test"])
        assert services["proxy"]["depends_on"][name]["condition"] == "service_healthy"
    for name in ("worker-1", "worker-2", "migrate"):
        assert services[name]["healthcheck"] == {"disable": True}, "the worker serves no HTTP"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "ping" in services["redis"]["healthcheck"]["test"]
    assert services["gateway-1"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_proxy_terminates_https_and_forwards_the_original_url(compose: dict) -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    proxy = compose["services"]["proxy"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    assert re.search(r"^\{\$HOTLINE_DOMAIN\} \{", caddyfile, re.M), "the site is the domain of HOTLINE_PUBLIC_URL"
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile)
    assert upstreams and upstreams.group(1).split() == ["gateway-1:8080", "gateway-2:8080"]
    for header in ("header_up Host {host}", "header_up X-Forwarded-Proto {scheme}",
                   "header_up X-Forwarded-For {remote_host}", "health_uri /healthz"):
        assert header in caddyfile


def test_the_dockerfile_installs_the_package_as_a_user_and_serves(compose: dict) -> None:
    instructions = dockerfile_instructions()
    for path in copied_paths():
        assert (ROOT / path).exists(), f"COPY {path}: not in the repository"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert not set(copied_paths()) & set(ignored), "a COPY'd path is left out of the build context"
    assert {".venv", "var", ".git", "deploy/.env", "*.env"} <= set(ignored), "no local state or secret is sent"
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["readme"] in copied_paths(), "pip install . reads the readme"
    runs = " ".join(arguments for instruction, arguments in instructions if instruction == "RUN")
    assert "pip install ." in runs
    users = [arguments for instruction, arguments in instructions if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    healthcheck = next(arguments for instruction, arguments in instructions if instruction == "HEALTHCHECK")
    assert "/healthz" in healthcheck
    command = json.loads(next(arguments for instruction, arguments in reversed(instructions) if instruction == "CMD"))
    assert command[:2] == ["hotline", "serve"] and "0.0.0.0" in command
    assert compose["services"]["gateway-1"]["build"] == {"context": "..", "dockerfile": "Dockerfile"}


@pytest.mark.parametrize(("unit", "command"), [
    ("hotline-gateway@.service", "/opt/hotline/bin/hotline serve --host 127.0.0.1 --port %i"),
    ("hotline-worker@.service", "/opt/hotline/bin/hotline worker"),
])
def test_systemd_units_run_the_commands_with_the_environment_file(unit: str, command: str, tmp_path: Path) -> None:
    text = (DEPLOY / "systemd" / unit).read_text(encoding="utf-8")
    assert f"ExecStart={command}" in text
    assert "ExecStartPre=/opt/hotline/bin/hotline check-config" in text
    assert "EnvironmentFile=/etc/hotline/hotline.env" in text
    assert re.search(r"^User=hotline$", text, re.M)
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return
    hotline = Path(sys.executable).with_name("hotline")
    local = tmp_path / unit
    local.write_text(text.replace("/opt/hotline/bin/hotline", str(hotline)), encoding="utf-8")
    instance = tmp_path / unit.replace("@.", "@8081.")
    instance.symlink_to(local)
    result = subprocess.run([analyze, "verify", "--man=no", str(instance)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def test_env_example_names_every_channel_credential() -> None:
    from gateway.cli.check_config import PROVIDERS

    names = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (DEPLOY / "env.example").read_text(encoding="utf-8"), re.M))
    for provider in PROVIDERS:
        assert set(provider.together) | set(provider.needing) <= names
    assert {"HOTLINE_PUBLIC_URL", "HOTLINE_TRUSTED_PROXIES", "HOTLINE_CONFIG", "POSTGRES_PASSWORD"} <= names


def test_the_image_steps_build_install_and_migrate_outside_the_repository(tmp_path: Path, redis_url: str) -> None:
    """What `docker build` and the `migrate` service do, replayed: the COPY'd paths alone build a wheel that
    carries the migrations; installed apart, `hotline check-config` and `hotline migrate` run against SQLite,
    and `check-config --connect` then finds the schema at the newest revision."""
    context = tmp_path / "src"
    for path in copied_paths():
        source = ROOT / path
        if source.is_dir():
            shutil.copytree(source, context / path, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            context.mkdir(exist_ok=True)
            shutil.copy2(source, context / path)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                            str(context)], capture_output=True, text=True, timeout=300, check=False)
    if built.returncode != 0 and "setuptools" in built.stderr and "satisfies the requirement" in built.stderr:
        pytest.skip("no package index reachable for the build backend")
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("hotline_gateway-*.whl"))
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    state = tmp_path / "var-lib-hotline"
    state.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HOTLINE_", "TWILIO_", "TELEGRAM_",
                                                                                    "MESSENGER_"))}
    env.update(PYTHONPATH=str(site), HOTLINE_DATABASE_URL=f"sqlite:///{state}/hotline.db",
               HOTLINE_MEDIA_DIR=str(state / "media"), HOTLINE_REDIS_URL=redis_url)

    def hotline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", "import sys; from gateway.cli.main import main; "
                               "sys.exit(main(sys.argv[1:]))", *args], cwd=state, env=env, capture_output=True,
                              text=True, timeout=300, check=False)

    where = subprocess.run([sys.executable, "-c", "import core.db; print(core.db.MIGRATIONS_DIR)"], cwd=state,
                           env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(site)), "the installed package runs, not the repository"
    checked = hotline("check-config")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    migrated = hotline("migrate")
    assert migrated.returncode == 0, migrated.stderr
    connected = hotline("check-config", "--connect")
    assert connected.returncode == 0, connected.stdout
    assert "schema at the newest revision" in connected.stdout
