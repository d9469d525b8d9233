"""The deployment as Open311 sees it: one jurisdiction, one service per category.

A service is a category: `service_code` its code, `service_name` its name in the requested `locale`
(else the deployment's default language), `group` the administration it routes to, `type` realtime (the
case reference is the answer to the POST). Categories ask for nothing beyond the description and the
place, so every service has `metadata` false and a definition without attributes.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from core.config import Category, Deployment

DEFAULT_JURISDICTION = "hotline"
"""The jurisdiction of a deployment whose name has no Latin letters or digits to make one from."""


def jurisdiction_of(deployment: Deployment) -> str:
    """The one `jurisdiction_id` this endpoint serves: the deployment's name, folded to ASCII, lower
    case, words joined by dashes (`Commune de Témara` -> `commune-de-temara`)."""
    folded = unicodedata.normalize("NFKD", deployment.name).encode("ascii", "ignore").decode("ascii")
    return "-".join(re.findall(r"[a-z0-9]+", folded.lower())) or DEFAULT_JURISDICTION


def language_for(deployment: Deployment, locale: str) -> str:
    """The deployment language a `locale` (`fr`, `fr_MA`, `en-US`) asks for, else its default language."""
    wanted = locale.strip()[:2].lower()
    return wanted if wanted in deployment.languages else deployment.default_language


def name_in(names: dict[str, str], language: str, deployment: Deployment, fallback: str) -> str:
    """A name in `language`, else in the default language, else any, else `fallback`."""
    return names.get(language) or names.get(deployment.default_language) or next(iter(names.values()), fallback)


def service(category: Category, deployment: Deployment, language: str) -> dict[str, Any]:
    """One category as a GeoReport service, fields in the spec's order."""
    name = name_in(category.names, language, deployment, category.code)
    administration = deployment.administration(category.administration)
    keywords = category.keywords.get(language) or category.keywords.get(deployment.default_language) or ()
    return {
        "service_code": category.code,
        "service_name": name,
        "description": name,
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": name_in(administration.names, language, deployment, administration.code) if administration else "",
    }


def service_list(deployment: Deployment, language: str) -> list[dict[str, Any]]:
    """Every category as a service, in the configuration's order."""
    return [service(category, deployment, language) for category in deployment.categories]


def service_definition(category: Category) -> dict[str, Any]:
    """The definition of a service: its code, and no attributes (nothing is asked beyond the basics)."""
    return {"service_code": category.code, "attributes": []}
