"""The dialogue's texts: YAML catalogs per language (package data), overridable from configuration.

`text(lang, key, ctx, **kw)` looks the key up in `ctx.texts[lang]` (deployment overrides), then in
the language's catalog, then in the default language's and English catalogs, and fills its
`{placeholders}` with `str.format` rules. A missing placeholder renders empty rather than failing:
a citizen gets a slightly poorer sentence, never an error.
"""

from __future__ import annotations

import string
from importlib import resources
from typing import Any

import yaml

from conversations.model import DialogueContext

CATALOG_LANGUAGES = ("ar", "fr", "en")


def _load(lang: str) -> dict[str, str]:
    """One language's catalog from the package's `texts/` folder."""
    raw = resources.files("conversations").joinpath("texts", f"{lang}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(raw) or {}
    return {str(key): str(value).rstrip("\n") for key, value in data.items()}


CATALOGS: dict[str, dict[str, str]] = {lang: _load(lang) for lang in CATALOG_LANGUAGES}


class _Blank(dict[str, Any]):
    """Format arguments that render a missing placeholder as an empty string."""

    def __missing__(self, key: str) -> str:
        return ""


def template(lang: str | None, key: str, ctx: DialogueContext) -> str:
    """The raw text for `key` in `lang` (overrides first), before placeholders are filled."""
    lang = lang or ctx.default_language
    for source in (
        ctx.texts.get(lang, {}),
        CATALOGS.get(lang, {}),
        CATALOGS.get(ctx.default_language, {}),
        CATALOGS["en"],
    ):
        if key in source:
            return source[key]
    raise KeyError(f"no text for {key!r}")


def text(lang: str | None, key: str, ctx: DialogueContext, **kw: Any) -> str:
    """The text for `key` in `lang` with its placeholders filled from `kw`."""
    return string.Formatter().vformat(template(lang, key, ctx), (), _Blank(kw))


def placeholders(raw: str) -> set[str]:
    """The placeholder names a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(raw) if name}
