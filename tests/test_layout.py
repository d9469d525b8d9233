"""The rules of the house (ARCHITECTURE.md), checked on the source: who imports whom, and that no code
outside `channels/` branches on a channel's name, so a channel is its folder and one registry line."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest

from channels.base import Capabilities, ChannelAdapter, ChannelRegistry, check_adapter
from channels.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
CHANNEL_NAME = re.compile(r"""["'](sms|whatsapp|telegram|ivr|voice|messenger)["']""", re.I)
MAY_NAME_CHANNELS = {
    "core/migrations/versions/0005_contact_addresses.py": "carries the old telegram_user_id column",
    "core/store/case_store.py": "the contract's `contact.telegram_user_id` field (DESIGN.md §5)",
    "gateway/cli/main.py": "`hotline telegram set-webhook`, a per-channel command",
    "gateway/cli/demo.py": "the terminal demo plays an SMS citizen",
}


def sources(package: str) -> list[Path]:
    """The Python files of a top-level package."""
    return sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """The top-level modules and packages a file imports, with their dotted names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(("package", "forbidden"), [
    ("core", ("channels", "gateway", "conversations")),
    ("conversations", ("channels", "gateway")),
    ("channels", ("gateway", "conversations")),
])
def test_dependencies_point_inwards(package: str, forbidden: tuple[str, ...]) -> None:
    wrong = {str(path.relative_to(ROOT)): sorted(n for n in imported(path) if n.split(".")[0] in forbidden)
             for path in sources(package)}
    assert {path: names for path, names in wrong.items() if names} == {}


def test_a_channel_imports_no_other_channel() -> None:
    for name in REGISTRY.names():
        folder = REGISTRY.paths[name].split(":")[0].rsplit(".", 1)[0]
        for path in sources(folder.replace(".", "/")):
            others = {n for n in imported(path) if n.startswith("channels.") and not n.startswith(folder)
                      and n not in ("channels.base", "channels.twilio_common")}
            assert not others, f"{path.relative_to(ROOT)} imports {others}"


def test_core_and_gateway_never_branch_on_a_channel_name() -> None:
    found = []
    for path in [*sources("core"), *sources("gateway")]:
        relative = str(path.relative_to(ROOT))
        if relative in MAY_NAME_CHANNELS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if CHANNEL_NAME.search(line.split("#")[0]):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert found == []


def test_every_channel_lives_in_its_folder_and_holds_its_declarations() -> None:
    REGISTRY.check()
    for name in REGISTRY.names():
        module = REGISTRY.paths[name].split(":")[0]
        assert module.startswith("channels.") and module.count(".") == 2, module
        adapter = REGISTRY.adapter_class(name)
        assert adapter.display_names.keys() >= {"ar", "fr", "en"}, f"{name} has a name for staff in each language"


class _Declared(ChannelAdapter):
    """An adapter with only declarations, for the start-up check."""

    name = "fax"
    capabilities = Capabilities()
    webhook_path = "/webhooks/fax"

    @classmethod
    def from_settings(cls, settings):  # type: ignore[no-untyped-def]
        return cls()

    def verify(self, request, public_url):  # type: ignore[no-untyped-def]
        return False

    def parse(self, request):  # type: ignore[no-untyped-def]
        return []

    def render_reply(self, texts):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    async def send(self, message):  # type: ignore[no-untyped-def]
        raise NotImplementedError


@pytest.mark.parametrize(("change", "message"), [
    ({"webhook_path": "webhooks/fax"}, "webhook_path"),
    ({"address_kind": "Fax Number"}, "address_kind"),
    ({"capabilities": Capabilities(fallback_channel="pigeon")}, "fallback channel"),
    ({"capabilities": Capabilities(sender_rate=0)}, "positive"),
    ({"capabilities": Capabilities(reply_window=timedelta(hours=24), recipient_rate=-1.0)}, "positive"),
    ({"set_webhook": lambda self, url: url}, "WebhookRegistration"),
    ({"call_steps": ("menu",)}, "CallChannel"),
])
def test_an_adapter_whose_declarations_do_not_hold_is_refused_at_start_up(change: dict, message: str) -> None:
    registry = ChannelRegistry({"sms": "channels.sms.adapter:SmsChannel"})
    check_adapter(_Declared, registry)
    broken = type("Broken", (_Declared,), dict(change))
    with pytest.raises(TypeError, match=message):
        check_adapter(broken, registry)



def test_no_module_name_stands_for_two_things() -> None:
    """A name says what a module is: two modules (or a module and a package) of one name in different
    packages are near-twins a newcomer confuses. Each channel's `adapter.py` is the convention."""
    seen: dict[str, list[str]] = {}
    for package in ("core", "gateway", "channels", "conversations"):
        for path in sources(package):
            if path.name == "__init__.py" or "migrations" in path.parts or path.name == "adapter.py":
                continue
            seen.setdefault(path.stem, []).append(str(path.relative_to(ROOT)))
        for folder in (ROOT / package).rglob("*/"):
            if (folder / "__init__.py").exists():
                seen.setdefault(folder.name, []).append(str(folder.relative_to(ROOT)) + "/")
    assert {name: places for name, places in seen.items() if len(places) > 1} == {}
