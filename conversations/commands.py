"""Global commands a citizen may send at any step, in Arabic, French, English and Darija.

A command is the whole message (case, accents and Arabic diacritics ignored): "menu", "رجوع",
"annuler", "3awni", "FR"... `reopen` may carry a reference ("reopen 482 913 0575").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from conversations.textnorm import fold
from core.references import normalize


class Command(StrEnum):
    """What a command asks for."""

    MENU = "menu"
    BACK = "back"
    CANCEL = "cancel"
    HELP = "help"
    AGENT = "agent"
    LANGUAGE = "language"
    REOPEN = "reopen"
    ADD_MEDIA = "add_media"
    TRACK = "track"


def phrases(phrases: str) -> frozenset[str]:
    """The folded forms of `|`-separated `phrases`."""
    return frozenset(fold(phrase) for phrase in phrases.split("|"))


WORDS: dict[Command, frozenset[str]] = {
    Command.MENU: phrases(
        "menu|main menu|menu principal|accueil|home|القائمة|قائمة|القائمة الرئيسية|lmenu|l menu|el menu|lmeni|المنيو"
    ),
    Command.BACK: phrases("back|previous|retour|revenir|precedent|رجوع|الرجوع|ارجع|rjo3|rje3|rjoe3"),
    Command.CANCEL: phrases("cancel|annuler|annulation|إلغاء|الغاء|الغي|lghi|nlghi|bghit nlghi"),
    Command.HELP: phrases("help|aide|aidez-moi|مساعدة|ساعدني|3awni|3awnni|3awenni"),
    Command.AGENT: phrases(
        "agent|person|a person|human|operator|talk to a person|conseiller|conseillere|operateur|personne|humain"
        "|موظف|شخص|مستشار|بغيت نهضر مع شي واحد|mowadaf|mowadef|nhder m3a chi wahed|bghit nhder m3a chi wahed"
    ),
    Command.REOPEN: phrases("reopen|re-open|rouvrir|reouvrir|réouvrir|إعادة فتح|اعادة فتح|إعادة الفتح"),
    Command.ADD_MEDIA: phrases(
        "add to my case|add to case|add photos|add photo|add to my complaint|ajouter au dossier|ajouter a ma plainte"
        "|ajouter au dossier de ma plainte|ajouter des photos|ajouter une photo|ajouter a mon dossier"
        "|أضف إلى شكايتي|اضف الى شكايتي|أضف إلى الشكاية|إضافة صور|اضافة صور|زيد للشكاية|zid l chikaya|zid lchikaya"
    ),
    Command.TRACK: phrases("track|status|track a case|suivi|statut|suivre|تتبع|تتبع شكاية|الحالة|tba3"),
}
WITH_REFERENCE = (Command.REOPEN, Command.ADD_MEDIA)
"""Commands that may carry a case reference after their words."""

LANGUAGE_WORDS: dict[str, frozenset[str]] = {
    "ar": phrases("ar|arabic|arabe|عربية|العربية|عربي|بالعربية|3arbia|l3arbia|darija|الدارجة"),
    "fr": phrases("fr|french|francais|français|فرنسية|الفرنسية|بالفرنسية|fransawiya"),
    "en": phrases("en|english|anglais|انجليزية|الانجليزية|الإنجليزية|بالانجليزية|inglizia"),
}
ANY_LANGUAGE = phrases("language|langue|lang|اللغة|لغة|lugha")
"""Asking to change language without naming one: the languages are offered."""


@dataclass(frozen=True)
class Parsed:
    """A recognized command and its argument (a language code, or a reference's digits)."""

    command: Command
    argument: str | None = None


def parse(text: str, languages: tuple[str, ...]) -> Parsed | None:
    """The command `text` is, or None; language switches only to one of `languages`."""
    folded = fold(text)
    if not folded:
        return None
    for command, words in WORDS.items():
        if folded in words:
            return Parsed(command)
    for lang, words in LANGUAGE_WORDS.items():
        if folded in words and lang in languages:
            return Parsed(Command.LANGUAGE, lang)
    if folded in ANY_LANGUAGE:
        return Parsed(Command.LANGUAGE)
    return _with_reference(folded)


def _with_reference(folded: str) -> Parsed | None:
    """`reopen 4829130575`, `add to my case 482 913 0575` (the command's words, then reference digits)."""
    for command in WITH_REFERENCE:
        for word in WORDS[command]:
            if folded.startswith(word + " "):
                digits = normalize(folded[len(word) :])
                if digits is not None:
                    return Parsed(command, digits)
    return None
