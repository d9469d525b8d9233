"""Configuration: the packaged commune example, profiles by number, and clear validation errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from core.config import ConfigError, Deployment, default_config_path, load_config

EXPECTED_NAMES = {
    "ar": ["النفايات", "الإنارة العمومية", "الطرق", "الماء والتطهير", "المساحات الخضراء", "الأسواق",
           "الحالة المدنية والوثائق", "التعمير", "أخرى"],
    "fr": ["Déchets", "Éclairage public", "Voirie", "Eau et assainissement", "Espaces verts", "Marchés",
           "État civil et documents", "Urbanisme", "Autre"],
    "en": ["Waste", "Street lighting", "Roads", "Water and sanitation", "Green spaces", "Markets",
           "Civil status and documents", "Urban planning", "Other"],
}  # fmt: skip


def write(tmp_path: Path, raw: dict) -> str:
    """Write `raw` as YAML and return the path."""
    path = tmp_path / "deployment.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return str(path)


def example() -> dict:
    """The packaged example as a mutable dict."""
    return yaml.safe_load(default_config_path().read_text(encoding="utf-8"))


def test_packaged_example_loads() -> None:
    dep = load_config(None)
    assert isinstance(dep, Deployment)
    assert dep.name == "Commune de Témara"
    assert dep.default_region == "MA"
    assert dep.languages == ("ar", "fr", "en")
    assert dep.default_language == "ar"
    assert (dep.routing_deadline_days, dep.answer_deadline_days, dep.reopen_window_days) == (15, 60, 30)
    assert dep.session_timeout_minutes == 1440 and dep.resume_notice_minutes == 30 and dep.max_misses == 3
    assert dep.outbound.max_attempts == 6 and dep.outbound.backoff_seconds == (5, 30, 120, 600, 1800)
    for lang, names in EXPECTED_NAMES.items():
        assert [c.names[lang] for c in dep.categories] == names
    assert dep.category("waste").deadline_days == 7
    assert dep.category("lighting").deadline_days == 15
    assert dep.category("roads").deadline_days is None
    assert dep.administration_names("commune-temara-roads")["fr"] == "Service de la voirie"
    assert dep.administration_names(None) == {} and dep.administration_names("nowhere") == {}
    for cat in dep.categories:
        if cat.administration is not None:
            assert dep.administration(cat.administration) is not None
    assert "CANCEL" not in dep.opt_out_keywords
    assert set(dep.opt_out_keywords) == {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "ARRET"}
    assert dep.opt_in_keywords == ("START", "UNSTOP")


def test_category_names_fit_a_short_menu() -> None:
    dep = load_config(None)
    for lang in dep.languages:
        names = [c.names[lang] for c in dep.categories]
        assert max(len(n) for n in names) <= 26
        # a numbered menu ("1 name" per line) stays within two segments: 2 x 67 UCS-2 characters for
        # Arabic, 2 x 153 GSM-7 characters for French and English (É and é are in the GSM-7 alphabet)
        assert sum(len(n) + 3 for n in names) <= (134 if lang == "ar" else 306)


def test_profile_for_selects_by_number_and_falls_back(tmp_path: Path) -> None:
    raw = example()
    raw["profiles"] = [
        {"number": "+201555516528", "default_administration": "commune-temara-hygiene", "languages": ["ar"]},
    ]
    dep = load_config(write(tmp_path, raw))
    chosen = dep.profile_for("whatsapp:+201555516528")
    assert chosen.default_administration == "commune-temara-hygiene"
    assert chosen.languages == ("ar",) and chosen.default_language == "ar"
    fallback = dep.profile_for("+212522000000")
    assert fallback.number == "*" and fallback.default_administration is None
    assert dep.profile_for(None).number == "*"


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda r: r["categories"][2].__setitem__("administration", "nowhere"),
         "categories[2].administration: unknown administration 'nowhere'"),
        (lambda r: r.__setitem__("languages", ["ar", "xx"]), "languages[1]: unknown language 'xx'"),
        (lambda r: r["deadlines"].__setitem__("answer_days", 0), "deadlines.answer_days: expected a positive"),
        (lambda r: r["deadlines"].__setitem__("routing_days", -3), "deadlines.routing_days"),
        (lambda r: r["categories"][0].__setitem__("deadline_days", "soon"), "categories[0].deadline_days"),
        (lambda r: r["categories"][1]["names"].pop("fr"), "categories[1].names: missing names for fr"),
        (lambda r: r["administrations"][0]["names"].__setitem__("de", "x"), "administrations[0].names.de"),
        (lambda r: r.__setitem__("default_language", "en") or r.__setitem__("languages", ["ar", "fr"]),
         "default_language: unknown language 'en'"),
        (lambda r: r.__setitem__("default_region", "ZZZ"), "default_region: unknown region"),
        (lambda r: r["categories"].append(dict(r["categories"][0])), "duplicate category code 'waste'"),
        (lambda r: r.__setitem__("profiles", [{"number": "+1", "default_administration": "nope"}]),
         "profiles[0].default_administration: unknown administration 'nope'"),
        (lambda r: r.__setitem__("categories", "waste"), "categories: expected a list"),
        (lambda r: r.pop("name"), "name: expected a non-empty string"),
        (lambda r: r["categories"][0].__setitem__("keywords", {"xx": ["zbel"]}), "categories[0].keywords.xx"),
        (lambda r: r["categories"][0].__setitem__("keywords", {"fr": "poubelles"}),
         "categories[0].keywords.fr: expected a list"),
    ],
)  # fmt: skip
def test_validation_errors_name_the_path(tmp_path: Path, mutate: Callable[[dict], object], fragment: str) -> None:
    raw = example()
    mutate(raw)
    path = write(tmp_path, raw)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert path in message
    assert fragment in message


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(bad))


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    raw = {
        "name": "Minimal",
        "languages": ["fr"],
        "administrations": [{"code": "a", "names": {"fr": "A"}}],
        "categories": [{"code": "c", "administration": "a", "names": {"fr": "C"}}],
    }
    dep = load_config(write(tmp_path, raw))
    assert dep.default_language == "fr" and dep.darija_latin_language == "fr"
    assert dep.default_profile.languages == ("fr",)
    assert dep.opt_in_keywords == ("START", "UNSTOP")
    assert dep.answer_deadline_days == 60


def test_category_keywords_per_language(tmp_path: Path) -> None:
    raw = example()
    raw["categories"][0]["keywords"] = {"ar": ["الزبل", "الزبالة"], "fr": ["poubelles"]}
    waste = load_config(write(tmp_path, raw)).categories[0]
    assert waste.keywords == {"ar": ("الزبل", "الزبالة"), "fr": ("poubelles",)}
