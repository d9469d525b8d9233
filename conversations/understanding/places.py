"""The place a citizen names while describing a problem ("les poubelles débordent rue Ibn Sina", "kayn zbel
f derb dyalna", "الزبالة متكومة قدام المدرسة"), so the dialogue need not ask where it is.

A place is a marker (a street word such as "rue", "حي", "zan9a", or a position word such as "près de",
"قدام", "next to") followed by the name or number of the place; English also puts the name first
("Hassan II avenue"). Matching runs on text folded character by character, so every folded position maps
back to the citizen's own characters and the phrase is returned as written.

Where a phrase starts: at the marker. A preposition glued or set before a street word ("au bd Anfa",
"on Hassan II avenue", "f derb", "في شارع", "بحي", "فالحي") is dropped; a position marker keeps all its
own words ("à côté de", "in front of", "au niveau de", "بالقرب من"). Where it ends: at punctuation or a
line break, at a word that starts another clause or a time ("depuis", "since", "et", "w", "منذ", "بقالها",
"la nuit": a second article after a name starts a new noun phrase), at another position marker, after a
number ("rue 12"), and at most six words after the marker.

A false place misroutes a complaint, while a missing one costs a single question, so doubtful cases give
no place: a generic "la rue", "our street", "الشارع" needs a name, number or possessive after it
("la rue 12", "الدرب ديالنا", "الحي المحمدي"); a position marker needs a determiner, a definite noun
or a capitalised name after it ("devant la mosquée", "near the bus station", "قدام المدرسة", never
"عندنا"); bare "place" needs a capitalised name or "du"/"de la" ("place du Marché"), so
"il n'y a plus de place au marché" names no place.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from conversations.textnorm import fold

_CAP = 6
_NEWLINES = "\n\r\v\f\x85\u2028\u2029"
_WORD = r"(?:[^\W_]|°)+(?:-(?:[^\W_]|°)+)*'?"
_TOKEN = re.compile(rf" *({_WORD})")
_LAST_TOKEN = re.compile(rf"({_WORD}) *$")
_START = r"(?<![^\W_])"
_END = r"(?:(?<=')|(?![^\W_]))"
_NUMBER = re.compile(r"\d+(?:[a-z]|st|nd|rd|th|er|eme|bis|ter)?")
_DARIJA_ARTICLE = re.compile(r"l(?:[b-df-hj-np-tv-z]|[0-9])[^\W_]+")
_CLAUSE_END = ".!?;\n؟؛"


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """One character as `fold` reads it; punctuation kept (it ends phrases), marks and tatweel dropped."""
    if char in _NEWLINES:
        return "\n"
    if char.isspace():
        return " "
    folded = fold(char).replace("’", "'")
    if folded:
        return folded
    return char.replace("’", "'") if unicodedata.category(char)[0] in "PS" else ""


def _fold_word(word: str) -> str:
    return "".join(_fold_char(char) for char in word)


def _words(text: str) -> frozenset[str]:
    return frozenset(_fold_word(word) for word in text.split())


def _alternatives(words: str) -> str:
    """A regex alternation of marker spellings (folded, longest first so "ورا" cannot cut "وراء")."""
    spelled = {_fold_word(word.replace("_", " ")) for word in words.split()}
    return "|".join(re.escape(word) for word in sorted(spelled, key=len, reverse=True))


_DE = r"d(?:u|es|e|')"
_FR_NAME = r"rue|ruelle|avenue|av\.?|boulevard|bd\.?|blvd\.?|quartier|cite|residence|lotissement"
_EN_NAME = r"street|st\.?|road|rd\.?|square|district|neighbou?rhood"
_DL_NAME = r"zan9a|zanqa|znqa|zen9a|zenqa|zanka|derb|hay|7ay|chari3|charia|chare3|douar"
_FR_REL = (rf"pres {_DE}|a cote {_DE}|en face {_DE}|au niveau {_DE}|au coin {_DE}|a proximite {_DE}"
           r"|devant|derriere")
_EN_REL = r"next to|in front of|(?:at|on) the corner of|across from|near|opposite|behind"
_DL_REL = r"[q9]rib me?n|[q9]rib|[9qg]dam|7da|hda|m[9qg]abel"
_AR_NAMES = "شارع زنقة حي درب ساحة طريق دوار إقامة تجزئة ناصية تقاطع ميدان منطقة عزبة كفر مساكن"
_AR_DEFINITE = "شارع زنقة حي درب ساحة طريق دوار ميدان منطقة"
_AR_REL = "بالقرب_من قريب_من قرب بجوار بجانب أمام خلف وراء ورا جنب مقابل قبالة عند قدام حدا"

_MARKER = re.compile("|".join((
    rf"{_START}(?:و)?(?P<ar_rel>{_alternatives(_AR_REL)}){_END}",
    rf"{_START}(?:و?[فب])?(?P<ar_def>ال(?:{_alternatives(_AR_DEFINITE)})){_END}",
    rf"{_START}(?:و?[فبل])?(?P<ar_name>{_alternatives(_AR_NAMES)}){_END}",
    rf"{_START}(?P<fr_rel>{_FR_REL}){_END}",
    rf"{_START}(?P<en_rel>{_EN_REL}){_END}",
    rf"{_START}(?P<dl_rel>{_DL_REL}){_END}",
    rf"{_START}(?P<avenue>avenue){_END}",
    rf"{_START}(?P<fr_route>route {_DE}){_END}",
    rf"{_START}(?P<fr_place>place){_END}",
    rf"{_START}(?P<fr_name>{_FR_NAME}){_END}",
    rf"{_START}(?P<en_name>{_EN_NAME}){_END}",
    rf"{_START}(?P<dl_name>{_DL_NAME}){_END}",
)))
_RELATIONAL = frozenset({"ar_rel", "fr_rel", "en_rel", "dl_rel"})
_STREET_WORD = re.compile(rf"{_FR_NAME}|place|route")
_EN_STREET_WORD = re.compile(rf"{_EN_NAME}|avenue")
_NOT_A_SQUARE = re.compile(r"(?<![\w'])(?:de|en|sur|une|a la) $|d'$")

_FR_DETERMINERS = _words("le la les l' un une mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs "
                         "ce cet cette ces du des")
_EN_DETERMINERS = _words("the my our your his her their this that these those a an")
_DETERMINERS = _FR_DETERMINERS | _EN_DETERMINERS
_LINKS = _words("de d' du des of")
_PARTICLES = _words("ibn ben bin bou bni beni ait oulad ouled sidi moulay lalla el al abd abdel de des du d'")
_LOCATIVE = _words("f fi fl fel b a au aux en dans ds l 3nd 3end ila in on at along near off of across down "
                   "outside")
_DYAL = _words("dyal dial dyel d")
_LATIN_NUMBER_WORDS = _words("ra9m raqm rqm n no numero num number")
_STOP = _words("""
    depuis dpuis depui dps pendant et ou mais car donc qui que qu' quand lorsque parce puisque est sont etait
    etaient a ont sera va vont fait il elle ils elles on nous vous je j' c' ca y ne n' pas plus tres trop tout
    tous toute toutes hier aujourd' demain matin soir nuit semaine semaines jour jours mois an ans heure
    heures lundi mardi mercredi jeudi vendredi samedi dimanche svp stp merci avec sans pour par sur sous dans
    chez au aux en vers entre encore deja toujours jamais maintenant actuellement personne rien aussi meme
    comme si ici bonjour salut cordialement malgre sert reste restent sent sentent deborde debordent fuit
    coule bloque bloquent menace pue traine trainent manque manquent occupe occupent attire
    for since from and but or is are was were be been being has have had it its it's they we i you he she
    there there's theres here which who whom whose because so when while until till every all today
    yesterday tonight tomorrow morning night evening afternoon week weeks month months day days year years
    ago again please pls plz thanks thank during last now still always never r u not no very too with
    without to by about after before over under into in on at keeps doesnt dont isnt cant that's thats
    w wa o mn men mnd mnin mli hadi hadii had hada hadchi hadik ila walakin walaken lakin bzaf bezaf bzzaf ktar
    kter ktr ghir gha daba lyoum lyom lbareh lbar7 l3chiya lil llil nhar simana simanat ayam iyam yum youm
    chhar chhor fih fiha li lli 7ta hta kolchi kol koll ma mch machi mashi wla rah raha rahom kayn kayna
    kaynin kayen 3afak 3afakom afak khouya khoya hna tma dima daima ana nta nti howa hiya 7na ntoma homa bla
    b7al ta f fi b 3la ala m3a xi chi shi
    منذ مند من بقالها بقاله بقالنا بقالي بقالهم بقالك بقالو و ولا لكن ولكن لاكن اللي الي الذي التي الذين
    هادي هاذي هدي هذا هذه هاد هذي ده دي دا كل كله كلها ما مش مافيش مفيش ماكاينش لا لم لن قد حيث حتى مع
    في ف ب فيه فيها امبارح امس البارحة اليوم الليل بالليل ليلة الصباح الصبح المساء العشية دابا ديما دايما
    دائما بزاف كثير كتير جدا خالص اوي يا والله الله شهر شهرين أسبوع أسبوعين أيام يوم يومين سيمانة بسبب
    رغم أيضا كمان برضو حاليا الآن دلوقتي لحد بحيث وين فين هنا هناك هنايا الناس أنا احنا نحن هو هي هم
    انتم انت بعد قبل كاين كاينة كاينين مازال لازال يعني لما إذا إلا غير بلا بدون تاني الجميع شي
""")
_LATIN_VERB = re.compile(r"ka[ytn]\w{2,}")
_ARABIC_VERB = re.compile(r"(?:ك[يتن]|و[يتن]|ب[يت])\w{3,}|و(?:ال|ما|لا|لم|لن|قد)\w*")
_AR_NOT_PLACE = _words("الاتصال الحاجة الضرورة المرور الخروج الدخول الوصول العودة الرجوع الانتهاء المال الفلوس "
                       "الخدمة الفجر الظهر العصر المغرب العشاء حفل حفلة عرس صلاة الحفل العرس الصلاة مهرجان")
_AR_PLACE_HEADS = _words("""
    باب مدخل مخرج محطة مسجد جامع دار بيت منزل عمارة مدرسة سوق مستشفى مستوصف صيدلية مقهى قهوة فرن حمام
    مخبزة ملعب حديقة جنينة جردة مقبرة بنك بريد بوسطة محل دكان مصنع ترعة عمود مركز مكتب كوبري قنطرة موقف
    سينما فندق مطعم كنيسة ثانوية إعدادية رقم
""")
_AR_ADJECTIVES = _words("الكبير الكبيرة الصغير الصغيرة الجديد الجديدة القديم القديمة الأول الأولى الثالث الرابع "
                        "الخامس السادس السابع الثامن التاسع العاشر")
_AR_NOT_ADJECTIVES = _words("المؤدي المؤدية الموالي الموالية الحالي الحالية")
_AR_OF = _words("ديال بتاع بتاعة")
_POSSESSIVES = _words("ديالنا ديالي ديالهم ديالكم ديالو ديالها ديالك بتاعنا بتاعتنا بتاعي بتاعتي بتاعهم بتاعتهم "
                      "dyalna dialna dyali diali dyalhom dialhom dyalkom dyalo dyalha dyawlna")
_NUMBER_WORD = _fold_word("رقم")
_ABD, _ALLAH = _fold_word("عبد"), _fold_word("الله")
_AR_CONSTRUCT = _AR_PLACE_HEADS | _AR_OF | _words("عبد ابن بن أبو أبي سيدي مولاي لالة أم")
_AR_NAME_WORD = re.compile(_alternatives(_AR_NAMES))
_EN_COMPOUNDS = _words("light lights lamp lamps lighting work works vendor vendors dog dogs cat cats food sweeper "
                       "sweepers cleaner cleaners sign signs market markets marking markings furniture parking kids "
                       "children noise block blocks bump bumps hawker hawkers seller sellers")

Token = tuple[int, int, str]
Span = tuple[int, int] | None


def _folded(text: str) -> tuple[str, list[int]]:
    """`text` folded, with the index in `text` of each folded character."""
    parts: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        parts.append(folded)
        origin.extend([index] * len(folded))
    return "".join(parts), origin


def _number(word: str) -> bool:
    """A house or street number ("12", "45", "5th"); not a Darija word spelled with digits ("3ers", "7ay")."""
    return bool(_NUMBER.fullmatch(word))


def _stop(word: str) -> bool:
    return word in _STOP or bool(_LATIN_VERB.fullmatch(word)) or bool(_ARABIC_VERB.fullmatch(word))


class _Reading:
    """The folded text, its map back to the original, and the word tests phrases are built from."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded, self.origin = _folded(text)

    def tokens(self, pos: int, limit: int = _CAP) -> list[Token]:
        """Up to `limit` words after `pos` on the same clause, with nothing but spaces between them."""
        found: list[Token] = []
        while len(found) < limit:
            match = _TOKEN.match(self.folded, pos)
            if not match:
                break
            found.append((match.start(1), match.end(1), match.group(1)))
            pos = match.end()
        return found

    def token_before(self, pos: int) -> Token | None:
        """The word ending just before `pos` (spaces allowed between), if any."""
        match = _LAST_TOKEN.search(self.folded, max(0, pos - 80), pos)
        return (match.start(1), match.end(1), match.group(1)) if match else None

    def capitalised(self, token: Token) -> bool:
        """Whether the citizen wrote the word with a capital (a name, in Latin script)."""
        return self.text[self.origin[token[0]]].isupper()

    def definite(self, token: Token) -> bool:
        """An Arabic word with the article as written: "الأطفال" is, "ألعاب" (folded alike) is not."""
        return token[2].startswith("ال") and len(token[2]) > 3 and self.text[self.origin[token[0]]] in "اٱ"

    def adjective(self, token: Token) -> bool:
        """A definite word that can follow a definite noun in a name ("الحي المحمدي", "شارع الحسن الثاني")."""
        word = token[2]
        return (self.definite(token) and not _stop(word) and word not in _AR_NOT_ADJECTIVES
                and (word.endswith(("ي", "يه")) or word in _AR_ADJECTIVES))

    def clause_starts_at(self, pos: int) -> bool:
        """Whether only spaces stand between `pos` and the start of the text or of its sentence."""
        pos -= 1
        while pos >= 0 and self.folded[pos] == " ":
            pos -= 1
        return pos < 0 or self.folded[pos] in _CLAUSE_END

    def relational_at(self, pos: int) -> bool:
        match = _MARKER.match(self.folded, pos)
        return bool(match) and match.lastgroup in _RELATIONAL

    def marker_at(self, pos: int) -> bool:
        return bool(_MARKER.match(self.folded, pos))

    def original(self, start: int, end: int) -> str:
        """The citizen's characters for folded `start:end`, diacritics after the last letter included."""
        stop = self.origin[end] if end < len(self.origin) else len(self.text)
        return self.text[self.origin[start]:max(stop, self.origin[end - 1] + 1)].strip()


def _name_evidence(reading: _Reading, token: Token) -> bool:
    """A word that can only start a name: capitalised, a number, or a name particle ("ibn", "sidi", "de")."""
    return reading.capitalised(token) or _number(token[2]) or token[2] in _PARTICLES


def _trimmed_end(kept: list[Token], dangling: frozenset[str]) -> int | None:
    """The end of the last kept word once words that cannot end a name ("de", "the", "dyal") are dropped."""
    while kept and kept[-1][2] in dangling:
        kept.pop()
    return kept[-1][1] if kept else None


_DANGLING = _DETERMINERS | _LINKS | _LOCATIVE | _DYAL | _LATIN_NUMBER_WORDS


def _latin_end(reading: _Reading, tokens: list[Token]) -> int | None:
    """Where the name words `tokens` stop (the first word already judged), or None when none is left.
    A second article starts a new noun phrase ("bd Anfa la nuit"), except after "de"/"of" or a street word
    ("rue de la Liberté", "rue des Orangers"); a Darija article word ends a name ("hay mohammadi lkrarss")
    unless a particle precedes it ("sidi lmokhtar"); a possessive ends it ("zen9a dyalna"), and a number
    too, with the English street word it numbers ("rue 12", "near 5th avenue")."""
    kept: list[Token] = []
    for index, token in enumerate(tokens):
        word = token[2]
        if index:
            previous = kept[-1][2]
            if (_stop(word) or reading.relational_at(token[0]) or previous in _POSSESSIVES
                    or (word in _DETERMINERS and previous not in _LINKS
                        and not (word in ("du", "des") and _STREET_WORD.fullmatch(previous)))
                    or (_DARIJA_ARTICLE.fullmatch(word) and previous not in _PARTICLES)):
                break
        kept.append(token)
        if _number(word):
            following = tokens[index + 1:index + 2]
            if following and _EN_STREET_WORD.fullmatch(following[0][2]):
                kept.append(following[0])
            break
    return _trimmed_end(kept, _DANGLING)


def _darija_chain_end(tokens: list[Token]) -> int | None:
    """A Darija noun after a position word, with what completes it: "dyal" and a word ("arrêt dyal tobis") or
    a number ("dar ra9m 23"); a next word is a new subject more often than not ("7da souk lfarracha khdaw",
    "9dam jame3 lpoteau tay7", "7da dar 3amra")."""
    kept = [tokens[0]]
    for token in tokens[1:]:
        word, previous = token[2], kept[-1][2]
        if _stop(word) or _number(previous):
            break
        if not (previous in _DYAL or word in _DYAL or word in _LATIN_NUMBER_WORDS or _number(word)):
            break
        kept.append(token)
    return _trimmed_end(kept, _DYAL | _LATIN_NUMBER_WORDS)


def _arabic_end(reading: _Reading, tokens: list[Token]) -> int | None:
    """Where an Arabic name stops. A definite word may follow the marker ("حي السلام"), a place noun
    ("محطة الحافلات") or a name word ("عبد الله", "شارع الهرم"); elsewhere, and after any definite word, only
    adjectives or a number follow ("شارع محمد الخامس", "المنزل رقم 45"), since a definite word there is
    most often the next subject ("حدا السوق الفراشة خداو", "ميدان رمسيس الزحمة"). Names are two words
    unless a name word links on ("شارع علال بن عبد الله", not "شارع ابن سينا تركت")."""
    kept: list[Token] = []
    for token in tokens:
        word = token[2]
        previous = kept[-1] if kept else None
        after_abd = previous is not None and previous[2] == _ABD and word == _ALLAH
        if (_stop(word) and not after_abd) or (previous and reading.marker_at(token[0])
                                               and not _AR_NAME_WORD.fullmatch(word)):
            break
        if previous:
            if previous[2] == _NUMBER_WORD:
                if not _number(word):
                    break
            elif not (reading.adjective(token) or word == _NUMBER_WORD or _number(word)):
                opens = (previous[2] in _AR_CONSTRUCT or previous[2] == _ALLAH
                         or bool(_AR_NAME_WORD.fullmatch(previous[2])))
                closed = (reading.definite(previous) and previous[2] != _ALLAH) or previous[2] in _POSSESSIVES
                if closed or (reading.definite(token) and not opens) or (len(kept) >= 2 and not opens):
                    break
        kept.append(token)
        if _number(word):
            break
    return _trimmed_end(kept, _AR_OF | {_NUMBER_WORD})


def _span(start: int, end: int | None) -> Span:
    return (start, end) if end is not None else None


def _fr_forward(reading: _Reading, hit: re.Match[str]) -> Span:
    """ "rue Ibn Sina", "au bd Anfa", "rue des Lilas"; after an article ("la rue", "notre quartier") only a
    name can follow."""
    tokens = reading.tokens(hit.end())
    if not tokens or _stop(tokens[0][2]):
        return None
    if tokens[0][2] in _DETERMINERS and not (
            tokens[0][2] in ("du", "des") and len(tokens) > 1 and not _stop(tokens[1][2])
            and tokens[1][2] not in _DETERMINERS):
        return None
    before = reading.token_before(hit.start())
    if before and before[2] in _DETERMINERS and not _name_evidence(reading, tokens[0]):
        return None
    return _span(hit.start(), _latin_end(reading, tokens))


def _dl_forward(reading: _Reading, hit: re.Match[str]) -> Span:
    """ "f derb dyalna", "a hay salam"; not "klab zen9a wlaw" (street dogs), where no preposition comes first."""
    tokens = reading.tokens(hit.end())
    if not tokens or _stop(tokens[0][2]) or tokens[0][2] in _DETERMINERS:
        return None
    before = reading.token_before(hit.start())
    loose = reading.clause_starts_at(hit.start()) or (before is not None and before[2] in _LOCATIVE)
    if not loose and not _name_evidence(reading, tokens[0]):
        return None
    return _span(hit.start(), _latin_end(reading, tokens))


def _en_backward(reading: _Reading, hit: re.Match[str]) -> Span:
    """ "on Hassan II avenue", "ibn sina st", "45 Lilac street", "street 12": up to four name words before
    the marker, after a preposition or capitalised (at a sentence start, the marker too: "Palm Street is
    flooded", not "Broken street"); not "our street", "the main road", "street light"."""
    after = reading.tokens(hit.end(), 1)
    if after and after[0][2] in _EN_COMPOUNDS:
        return None
    if after and _number(after[0][2]):
        return (hit.start(), after[0][1])
    end = hit.end() - 1 if reading.folded[hit.end() - 1] == "." else hit.end()
    run: list[Token] = []
    pos = hit.start()
    while len(run) < 4:
        token = reading.token_before(pos)
        if token is None or _stop(token[2]) or token[2] in _DETERMINERS or token[2] in _LOCATIVE:
            break
        run.insert(0, token)
        pos = token[0]
        if _number(token[2]):
            break
    words = [token for token in run if not _number(token[2])]
    if not words:
        return None
    before = reading.token_before(run[0][0])
    after_preposition = before is not None and before[2] in _LOCATIVE
    capitalised = all(reading.capitalised(token) for token in words)
    named = capitalised and (reading.capitalised((hit.start(), hit.end(), "")) or not reading.clause_starts_at(
        run[0][0]))
    return (run[0][0], end) if after_preposition or named else None


def _avenue(reading: _Reading, hit: re.Match[str]) -> Span:
    """French "avenue Hassan II" first, English "Hassan II avenue" otherwise."""
    return _fr_forward(reading, hit) or _en_backward(reading, hit)


def _fr_route(reading: _Reading, hit: re.Match[str]) -> Span:
    """ "route de Rabat", "route de l'aéroport": the "de" already says a name follows."""
    tokens = reading.tokens(hit.end())
    if not tokens or _stop(tokens[0][2]):
        return None
    return _span(hit.start(), _latin_end(reading, tokens))


def _fr_place(reading: _Reading, hit: re.Match[str]) -> Span:
    """ "place Jamaa el Fna", "place du Marché"; never "pas de place", "à la place de", "mis en place"."""
    if _NOT_A_SQUARE.search(reading.folded, max(0, hit.start() - 8), hit.start()):
        return None
    tokens = reading.tokens(hit.end())
    words = [token[2] for token in tokens]
    if not tokens:
        return None
    if words[0] in ("du", "des"):
        content = 1
    elif words[0] == "de" and len(words) > 1 and words[1] in ("la", "l'"):
        content = 2
    elif reading.capitalised(tokens[0]) and not _stop(words[0]):
        return _span(hit.start(), _latin_end(reading, tokens))
    else:
        return None
    if len(words) <= content or _stop(words[content]) or words[content] in _DETERMINERS:
        return None
    return _span(hit.start(), _latin_end(reading, tokens))


def _fr_relational(reading: _Reading, hit: re.Match[str]) -> Span:
    """ "à côté de la boulangerie", "près du souk", "devant la mosquée"; not "devant chez moi"."""
    tokens = reading.tokens(hit.end())
    if not tokens:
        return None
    first = tokens[0]
    if hit.group("fr_rel").endswith(("du", "des", "'")):
        good = not _stop(first[2]) and first[2] not in _DETERMINERS
    else:
        good = first[2] in _FR_DETERMINERS or _name_evidence(reading, first)
    return _span(hit.start(), _latin_end(reading, tokens)) if good else None


def _en_relational(reading: _Reading, hit: re.Match[str]) -> Span:
    """ "near the bus station", "next to Bab Doukkala", "at the corner of palm street"; not "the opposite is"."""
    tokens = reading.tokens(hit.end())
    if not tokens:
        return None
    first = tokens[0]
    if first[2] not in _EN_DETERMINERS and _stop(first[2]):
        return None
    end = _latin_end(reading, tokens)
    if end is None:
        return None
    names_a_street = any(_MARKER.fullmatch(token[2]) for token in tokens if token[1] <= end)
    if first[2] in _EN_DETERMINERS or _name_evidence(reading, first) or names_a_street:
        return (hit.start(), end)
    return None


def _dl_relational(reading: _Reading, hit: re.Match[str]) -> Span:
    """ "7da lbosta", "9dam jame3", "qrib mn lmdrasa", "9rib l7ammam" (bare "9rib" only before an article
    word: alone it also means "soon")."""
    tokens = reading.tokens(hit.end())
    if not tokens or _stop(tokens[0][2]) or tokens[0][2] in _DETERMINERS:
        return None
    if hit.group("dl_rel") in ("9rib", "qrib") and not _DARIJA_ARTICLE.fullmatch(tokens[0][2]):
        return None
    return _span(hit.start(), _darija_chain_end(tokens))


def _ar_name(reading: _Reading, hit: re.Match[str]) -> Span:
    """ "حي السلام", "بزنقة الليمون" (the glued "ب" dropped), "درب سيدي أحمد"; not "عن طريق الهاتف"."""
    tokens = reading.tokens(hit.end())
    if not tokens or tokens[0][2] in _AR_NOT_PLACE:
        return None
    if hit.group("ar_name") == _fold_word("طريق") and reading.folded[:hit.start()].endswith("عن "):
        return None
    return _span(hit.start("ar_name"), _arabic_end(reading, tokens))


def _ar_definite(reading: _Reading, hit: re.Match[str]) -> Span:
    """ "الحي المحمدي", "الدرب ديالنا", "الشارع رقم 10": the definite street word needs what makes it one place."""
    tokens = reading.tokens(hit.end(), 2)
    if not tokens:
        return None
    first = tokens[0]
    if first[2] in _POSSESSIVES or reading.adjective(first) or _number(first[2]):
        return (hit.start("ar_def"), first[1])
    if first[2] == _NUMBER_WORD and len(tokens) > 1 and _number(tokens[1][2]):
        return (hit.start("ar_def"), tokens[1][1])
    return None


def _ar_relational(reading: _Reading, hit: re.Match[str]) -> Span:
    """ "قدام المدرسة", "خلف محطة الحافلات", "حدا لاراي ديال الطوبيس"; not "عندنا", "أمام الجميع"."""
    tokens = reading.tokens(hit.end(), 4)
    if not tokens:
        return None
    first = tokens[0]
    if first[2] in _AR_NOT_PLACE or _stop(first[2]):
        return None
    of_something = len(tokens) > 1 and tokens[1][2] in _AR_OF
    if not (reading.definite(first) or first[2] in _AR_PLACE_HEADS or _number(first[2]) or of_something
            or reading.marker_at(first[0])):
        return None
    return _span(hit.start("ar_rel"), _arabic_end(reading, tokens))


_PHRASES: dict[str, Callable[[_Reading, re.Match[str]], Span]] = {
    "ar_rel": _ar_relational, "ar_def": _ar_definite, "ar_name": _ar_name, "fr_rel": _fr_relational,
    "en_rel": _en_relational, "dl_rel": _dl_relational, "avenue": _avenue, "fr_route": _fr_route,
    "fr_place": _fr_place, "fr_name": _fr_forward, "en_name": _en_backward, "dl_name": _dl_forward,
}


def place_in(text: str) -> str:
    """The place phrase `text` names ("rue 12", "حي السلام", "f derb sidi ahmed", "قدام المدرسة"), as the citizen
    wrote it (original spelling and letters, trimmed), or "" when it names none; the first one when several."""
    reading = _Reading(text)
    for hit in _MARKER.finditer(reading.folded):
        span = _PHRASES[hit.lastgroup or ""](reading, hit)
        if span:
            return reading.original(*span)
    return ""
