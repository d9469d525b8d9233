"""The console's texts, per language, from YAML catalogs (`texts/{ar,fr,en}.yaml`), and its language choice.

A staff member's language comes from `?lang=` (remembered in a cookie), else the cookie, else the
browser's `Accept-Language`, else the deployment's default. Arabic pages are right to left.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from aiohttp import web

LANGUAGES = ("ar", "fr", "en")
LANGUAGE_LABELS = (("ar", "العربية"), ("fr", "Français"), ("en", "English"))
"""Each language by its own name (the language links of every page)."""
RTL = frozenset({"ar"})
COOKIE = "hotline_lang"


def _load(lang: str) -> dict[str, str]:
    raw = resources.files("gateway.staff.console").joinpath("texts", f"{lang}.yaml").read_text(encoding="utf-8")
    return {str(k): str(v) for k, v in (yaml.safe_load(raw) or {}).items()}


CATALOGS: dict[str, dict[str, str]] = {lang: _load(lang) for lang in LANGUAGES}


def translate(lang: str, key: str, **values: Any) -> str:
    """The text for `key` in `lang` (English, then the key itself, when missing), placeholders filled."""
    raw = CATALOGS.get(lang, {}).get(key) or CATALOGS["en"].get(key) or key
    return raw.format(**values) if values else raw


def has_text(key: str) -> bool:
    """Whether the catalogs have `key` (English at least)."""
    return key in CATALOGS["en"]


def choose_language(request: web.Request, default: str) -> str:
    """The language to render `request` in."""
    asked = request.query.get("lang")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGUAGES:
        return cookie
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return default if default in LANGUAGES else "ar"
