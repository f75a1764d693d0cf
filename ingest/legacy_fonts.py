"""Text typed in the legacy Vietnamese font encodings TCVN3 (ABC) and VNI, told apart from Unicode.

Before Unicode, Vietnamese was typed with 8-bit fonts that draw Vietnamese letters in
place of Latin-1 symbols. A workbook keeps the code points, so a cell typed with the
.VnTime font (TCVN3, also called ABC) holds ``Hµ Néi`` and one typed with VNI-Times holds
``Haø Noäi`` where the person saw *Hà Nội*. This module converts such text to Unicode
(NFC) and refuses to guess when the text could be read more than one way.

The tables are those of the TCVN 5712:1993 "VN3" font set (.VnTime, .VnArial …) and of
the VNI-Windows fonts, as implemented by the converters Vietnamese offices use (UniKey's
VnConv). Facts worth knowing:

* TCVN3 has one byte per letter. Its uppercase letters are only Ă Â Đ Ê Ô Ơ Ư; capitals
  with a tone mark were drawn by a second font (.VnTimeH) from the *lowercase* codes, so
  ``Hµ`` may have been seen as *Hà* or *HÀ*. A lowercase code is written in capitals when
  the rest of its word is (``NéI`` → *NỘI*); otherwise in lower case. ư is U+00AD, the
  soft hyphen.
* VNI writes a base letter followed by a mark character: tones ``ù ø û õ ï`` (acute, grave,
  hook, tilde, dot; ``Ù Ø Û Õ Ï`` after a capital), circumflex with tone ``â á à å ã ä``,
  breve with tone ``ê é è ú ü ë``; ơ and ư are ``ô`` and ``ö``; đ is ``ñ``; i with a tone
  and ỵ are single characters (``í ì æ ó ò``, ``î``).

Detection (:func:`read_cell`) is conservative:

1. ASCII text, and text holding a letter only Unicode has (ă, đ, ơ, ư, ạ … ỹ or a
   combining mark), is left alone.
2. Text whose non-ASCII characters are all letters of Unicode Vietnamese (à, â, ê, ò …)
   and whose words are all valid Vietnamese syllables is left alone: ``Bình Hòa`` is
   Unicode even though every character of it could also be TCVN3 or VNI.
3. Otherwise the text is decoded as TCVN3 and as VNI. A decoding counts when every
   character is one that encoding produces and every word with a Vietnamese letter is a
   valid syllable (initial consonant + rhyme from the table below; a rhyme ending in
   c/ch/p/t takes only the acute or dot tone). One such reading → converted. Two
   different readings → unsure. None, but the text holds characters Unicode Vietnamese
   never uses and a reading makes at least as many valid syllables as broken ones →
   unsure. Anything else (``Müller``, ``25 m²``, ``«Hoa»``) is left alone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# ---------------------------------------------------------------------------------------------
# Letters

TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
"""Tone marks in table order: none, sắc (acute), huyền (grave), hỏi (hook), ngã (tilde), nặng (dot)."""
VOWELS = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y")


def _with_tone(base: str, tone: int) -> str:
    return unicodedata.normalize("NFC", base + TONES[tone])


# ---------------------------------------------------------------------------------------------
# TCVN3 (ABC, .VnTime fonts)

_TCVN3_LOWER = {
    "a": "a¸µ¶·¹",
    "ă": "¨¾»¼½Æ",
    "â": "©ÊÇÈÉË",
    "e": "eÐÌÎÏÑ",
    "ê": "ªÕÒÓÔÖ",
    "i": "iÝ×ØÜÞ",
    "o": "oãßáâä",
    "ô": "«èåæçé",
    "ơ": "¬íêëìî",
    "u": "uóïñòô",
    "ư": "\u00adøõö÷ù",
    "y": "yýúûüþ",
}
"""Lowercase vowel → its six codes (no tone, acute, grave, hook, tilde, dot)."""
_TCVN3_OTHER = {"đ": "®", "Ă": "¡", "Â": "¢", "Đ": "§", "Ê": "£", "Ô": "¤", "Ơ": "¥", "Ư": "¦"}
"""đ and the seven capitals the font set has codes for."""

TCVN3_DECODE: dict[str, str] = {}
"""TCVN3 code (as the Latin-1 character a workbook stores) → Unicode letter."""
for _base, _codes in _TCVN3_LOWER.items():
    for _tone, _code in enumerate(_codes):
        if not _code.isascii():
            TCVN3_DECODE[_code] = _with_tone(_base, _tone)
for _letter, _code in _TCVN3_OTHER.items():
    TCVN3_DECODE[_code] = _letter
TCVN3_ENCODE: dict[str, str] = {v: k for k, v in TCVN3_DECODE.items()}
"""Unicode letter → TCVN3 code; capitals without a code of their own use the lowercase one."""
for _base in VOWELS:
    for _tone in range(6):
        _lower = _with_tone(_base, _tone)
        _upper = _lower.upper()
        if _upper not in TCVN3_ENCODE and _lower in TCVN3_ENCODE:
            TCVN3_ENCODE[_upper] = TCVN3_ENCODE[_lower]
_TCVN3_CASELESS = frozenset(code for codes in _TCVN3_LOWER.values() for code in codes[1:])
"""Codes of toned vowels: the font set has no capitals for them (the capital fonts, .VnTimeH, draw capitals
from these codes), so their case comes from the text around them."""


# ---------------------------------------------------------------------------------------------
# VNI (VNI-Windows fonts)

_VNI_TONE_MARKS = ("", "ù", "ø", "û", "õ", "ï")
_VNI_CIRCUMFLEX = ("â", "á", "à", "å", "ã", "ä")
_VNI_BREVE = ("ê", "é", "è", "ú", "ü", "ë")
_VNI_I = ("i", "í", "ì", "æ", "ó", "ò")


def _vni_lower(base: str, tone: int) -> str:
    """The VNI spelling of one lowercase Vietnamese vowel with a tone."""
    if base == "i":
        return _VNI_I[tone]
    if base == "y" and tone == 5:
        return "î"
    if base in ("â", "ê", "ô"):
        return {"â": "a", "ê": "e", "ô": "o"}[base] + _VNI_CIRCUMFLEX[tone]
    if base == "ă":
        return "a" + _VNI_BREVE[tone]
    head = {"ơ": "ô", "ư": "ö"}.get(base, base)
    return head + _VNI_TONE_MARKS[tone]


VNI_ENCODE: dict[str, str] = {"đ": "ñ", "Đ": "Ñ"}
"""Unicode letter → VNI spelling (one or two characters); capitals take capital marks."""
for _base in VOWELS:
    for _tone in range(6):
        _letter = _with_tone(_base, _tone)
        _spelling = _vni_lower(_base, _tone)
        if _spelling != _letter or _tone:
            VNI_ENCODE[_letter] = _spelling
        VNI_ENCODE[_letter.upper()] = _spelling.upper()
VNI_DECODE: dict[str, str] = {v: k for k, v in VNI_ENCODE.items()}
"""VNI spelling → Unicode letter (í and ì stand for themselves). A mark after a capital may be typed in either case."""
VNI_ENCODE = {k: v for k, v in VNI_ENCODE.items() if k != v}
for _spelling, _letter in list(VNI_DECODE.items()):
    if len(_spelling) == 2 and _spelling[0].isupper():
        VNI_DECODE.setdefault(_spelling[0] + _spelling[1].lower(), _letter)
    if len(_spelling) == 2 and _spelling[0].islower():
        VNI_DECODE.setdefault(_spelling[0] + _spelling[1].upper(), _letter)

# ---------------------------------------------------------------------------------------------
# Character classes

UNICODE_ONLY = re.compile("[\u0100-\u024f\u0300-\u036f\u1ea0-\u1ef9]")
"""Letters and marks that only Unicode Vietnamese text holds (ă đ ơ ư ĩ ũ, ạ … ỹ, combining marks)."""
VIETNAMESE_LATIN1 = frozenset("ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý")
"""Latin-1 letters Unicode Vietnamese uses."""
TCVN3_CHARS = frozenset(TCVN3_DECODE)
VNI_CHARS = frozenset(ch for spelling in VNI_DECODE for ch in spelling if not ch.isascii())
LEGACY_ONLY = (TCVN3_CHARS | VNI_CHARS) - VIETNAMESE_LATIN1
"""Characters TCVN3 or VNI text holds that Unicode Vietnamese never does (µ ¸ ¶ ø ï ä ® …)."""

_WORD = re.compile(r"[^\W\d_]+")

# ---------------------------------------------------------------------------------------------
# Syllables

INITIALS = (
    "ngh",
    "ng",
    "nh",
    "ch",
    "gh",
    "gi",
    "kh",
    "ph",
    "qu",
    "th",
    "tr",
    "b",
    "c",
    "d",
    "đ",
    "g",
    "h",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "x",
    "",
)
"""Initial consonants, longest first (``gi`` and ``qu`` also split as g + i…, q + u…)."""

_RHYME_TABLE = (
    "a ac ach ai am an ang anh ao ap at au ay ak",
    "ăc ăm ăn ăng ăp ăt ăk",
    "âc âm ân âng âp ât âu ây",
    "e ec em en eng eo ep et ek",
    "ê êch êm ên ênh êp êt êu êk",
    "i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu",
    "y yêm yên yêng yêt yêu ych ynh yt",
    "o oc oi om on ong op ot ok",
    "oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng oăp oăt",
    "oe oen oeo oet",
    "ô ôc ôi ôm ôn ông ôp ôt ôk",
    "ơ ơi ơm ơn ơp ơt ơk",
    "u uc ui um un ung up ut uk ua uôc uôi uôm uôn uông uôt",
    "uân uâng uât uây uê uêch uênh uơ uy uya uych uynh uyt uyu uyên uyêt",
    "ư ưa ưc ưi ưng ưt ưu ươc ươi ươm ươn ương ươp ươt ươu",
)
RHYMES = frozenset(rhyme for line in _RHYME_TABLE for rhyme in line.split())
"""Vietnamese rhymes (vần) without tone: medial, nucleus and final (k finals for minority place names)."""
_ONLY_AFTER_QU = frozenset({"ych", "ynh", "yt"})
_FINALS = ("ch", "ng", "nh", "c", "m", "n", "p", "t", "k")
_STOPS = ("ch", "c", "p", "t", "k")
_GLIDES = "iyou"
_ALL_VOWELS = frozenset("aăâeêioôơuưy")
_EITHER = frozenset({"oa", "oe", "uy"})  # hoà / hòa, thuỷ / thủy


@lru_cache(maxsize=1024)
def tone_positions(rhyme: str) -> frozenset[int]:
    """Indexes of the letters of ``rhyme`` that may carry the tone mark (old and new placement).

    >>> [sorted(tone_positions(r)) for r in ("oa", "oan", "ươi", "ia")]
    [[0, 1], [1], [1], [0]]
    """
    vowels = [i for i, ch in enumerate(rhyme) if ch in _ALL_VOWELS]
    if not vowels:
        return frozenset()
    if rhyme in _EITHER:
        return frozenset({0, 1})
    if rhyme.endswith(_FINALS):
        return frozenset({vowels[-1]})
    if len(vowels) == 1 or rhyme in ("ia", "ua", "ưa"):
        return frozenset({vowels[0]})
    if rhyme[-1] in _GLIDES:
        return frozenset({vowels[-2]})
    return frozenset({vowels[-1]})


def _split_tone(word: str) -> tuple[str, int, int] | None:
    """The word without its tone mark, the tone number and the index of the toned letter; None for two tones."""
    tone, where = 0, -1
    bare = []
    for i, ch in enumerate(word):
        parts = unicodedata.normalize("NFD", ch)
        marks = [m for m in parts if m in TONES[1:]]
        if marks:
            if tone or len(marks) > 1:
                return None
            tone, where = TONES.index(marks[0]), i
            parts = "".join(m for m in parts if m not in TONES[1:])
        bare.append(unicodedata.normalize("NFC", parts))
    return "".join(bare), tone, where


@lru_cache(maxsize=65536)
def is_syllable(word: str) -> bool:
    """Whether ``word`` is spelled like one Vietnamese syllable, tone mark in a valid place.

    >>> [is_syllable(w) for w in ("Nội", "nghiệp", "Hoà", "Hòa", "quốc", "giữ", "Đắk", "người")]
    [True, True, True, True, True, True, True, True]
    >>> [is_syllable(w) for w in ("Néi", "Haứ", "bàt", "Mỹller", "Xaõ", "hòan")]
    [False, False, False, False, False, False]
    """
    split = _split_tone(word.lower())
    if split is None:
        return False
    bare, tone, where = split
    for initial in INITIALS:
        if not bare.startswith(initial):
            continue
        rhyme = bare[len(initial) :]
        if rhyme not in RHYMES or (rhyme in _ONLY_AFTER_QU and initial != "qu"):
            continue
        if rhyme.endswith(_STOPS) and tone not in (1, 5):
            continue
        if tone and where - len(initial) not in tone_positions(rhyme):
            continue
        return True
    return False


@dataclass(frozen=True)
class Score:
    """Words of a text that hold a non-ASCII letter: valid syllables of two letters or more, other
    valid or vowel-less words (``ĐH``, ``â``), and words that are no Vietnamese syllable."""

    strong: int
    weak: int
    invalid: int


def score(text: str) -> Score:
    """Count the words of ``text`` holding a non-ASCII letter by how Vietnamese they look."""
    strong = weak = invalid = 0
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        bare = unicodedata.normalize("NFD", word.lower())
        if not any(ch in "aeiouy" for ch in bare):
            weak += 1  # an abbreviation such as ĐH, HĐND
        elif is_syllable(word):
            if len(word) > 1:
                strong += 1
            else:
                weak += 1
        else:
            invalid += 1
    return Score(strong, weak, invalid)


# ---------------------------------------------------------------------------------------------
# Encoders and decoders


def to_tcvn3(text: str) -> str:
    """Unicode → TCVN3 as a workbook cell stores it (capitals with tones fall back to lowercase codes)."""
    return "".join(TCVN3_ENCODE.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def to_vni(text: str) -> str:
    """Unicode → VNI as a workbook cell stores it."""
    return "".join(VNI_ENCODE.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def _passes_through(ch: str, charset: frozenset[str]) -> bool:
    """Characters an encoding leaves as they are: ASCII, and non-letters it has no use for (–, °, «)."""
    return ch.isascii() or (ch not in charset and not unicodedata.category(ch).startswith("L"))


def from_tcvn3(text: str) -> str | None:
    """TCVN3 → Unicode; None when the text holds a letter TCVN3 does not produce.

    >>> from_tcvn3("Hµ Néi"), from_tcvn3("UBND X· Th¹ch L\u00adu"), from_tcvn3("HîP T¸C X·"), from_tcvn3("th«n Ých HËu")
    ('Hà Nội', 'UBND Xã Thạch Lưu', 'HỢP TÁC XÃ', 'thôn Ích Hậu')
    """
    out: list[str] = []
    caseless: set[int] = set()
    for ch in text:
        if ch in TCVN3_DECODE:
            if ch in _TCVN3_CASELESS:
                caseless.add(len(out))
            out.append(TCVN3_DECODE[ch])
        elif _passes_through(ch, TCVN3_CHARS):
            out.append(ch)
        else:
            return None
    if caseless:
        _restore_capitals(out, caseless)
    return "".join(out)


def _restore_capitals(chars: list[str], caseless: set[int]) -> None:
    """Write in capitals the toned vowels decoded from caseless TCVN3 codes where the text around them is.

    A word is in capitals when a letter after its first is a capital and none is lowercase
    (``NéI`` → NỘI); a word with no such letter (``Hµ``, ``X·``) follows its neighbours when
    they are in capitals (``HîP T¸C X·`` → HỢP TÁC XÃ). A caseless first letter is a capital
    when the word is, when the next word starts with a capital (``th«n Ých HËu`` → thôn Ích
    Hậu), or when the word opens a cell holding capitals (``Ñy ban`` → Ủy ban). Abbreviations
    without a vowel (``HTX``, ``UBND``) say nothing.
    """
    words = [(m.start(), m.end()) for m in _WORD.finditer("".join(chars))]
    cases: dict[int, str | None] = {}  # a word's case, worked out only for words next to a caseless letter

    def case(k: int) -> str | None:
        if k not in cases:
            cases[k] = _word_case(chars, *words[k], caseless)
        return cases[k]

    has_capital = any(c.isupper() for i, c in enumerate(chars) if i not in caseless)
    for k, (a, b) in enumerate(words):
        if not any(i in caseless for i in range(a, b)):
            continue
        near = [case(j) for j in (k - 1, k + 1) if 0 <= j < len(words) and case(j) is not None]
        caps = case(k) == "upper" or (case(k) is None and bool(near) and all(c == "upper" for c in near))
        next_capital = k + 1 < len(words) and chars[words[k + 1][0]].isupper() and words[k + 1][0] not in caseless
        for i in range(a, b):
            if i in caseless and (caps or (i == a and (next_capital or (k == 0 and has_capital)))):
                chars[i] = chars[i].upper()


def _word_case(chars: list[str], a: int, b: int, caseless: set[int]) -> str | None:
    """ "upper" or "lower" from the letters after the first that have a case of their own; None when
    there are none, or the word has no vowel (an abbreviation)."""
    word = "".join(chars[a:b]).lower()
    if not any(ch in "aeiouy" for ch in unicodedata.normalize("NFD", word)):
        return None
    rest = [chars[i] for i in range(a + 1, b) if i not in caseless]
    if any(c.islower() for c in rest):
        return "lower"
    if any(c.isupper() for c in rest):
        return "upper"
    return None


def from_vni(text: str) -> str | None:
    """VNI → Unicode; None when the text holds a character VNI does not produce where it stands.

    >>> from_vni("Haø Noäi"), from_vni("HÔÏP TAÙC XAÕ"), from_vni("Ñoàng Tieán")
    ('Hà Nội', 'HỢP TÁC XÃ', 'Đồng Tiến')
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if len(pair) == 2 and pair in VNI_DECODE:
            out.append(VNI_DECODE[pair])
            i += 2
            continue
        ch = text[i]
        if ch in VNI_DECODE:
            out.append(VNI_DECODE[ch])
        elif _passes_through(ch, VNI_CHARS):
            out.append(ch)
        else:
            return None
        i += 1
    return "".join(out)


DECODERS = {"TCVN3": from_tcvn3, "VNI": from_vni}
ENCODERS = {"TCVN3": to_tcvn3, "VNI": to_vni}

# ---------------------------------------------------------------------------------------------
# Detection


@dataclass(frozen=True)
class FileFonts:
    """What the other cells of a file say about how it was typed.

    ``legacy`` are the encodings some cell of the file can only be read in; ``unicode`` is true
    when some cell holds a letter only Unicode has. A file with one legacy encoding and no
    Unicode cell is *pure*: its cells are read in that encoding whenever that gives Vietnamese.
    """

    legacy: frozenset[str] = frozenset()
    unicode: bool = False

    @property
    def pure(self) -> str | None:
        """The file's only encoding, when it has one and no Unicode cell."""
        return next(iter(self.legacy)) if len(self.legacy) == 1 and not self.unicode else None


NO_CONTEXT = FileFonts()


def file_fonts(texts: list[str], lexicon: frozenset[str] = frozenset()) -> FileFonts:
    """Survey the text cells of one file (all sheets, headers included)."""
    legacy: set[str] = set()
    unicode = False
    for text in texts:
        if text.isascii():
            continue
        if UNICODE_ONLY.search(text):
            unicode = True
            continue
        reading = read_cell(text, NO_CONTEXT, lexicon)
        if reading.encoding:
            legacy.add(reading.encoding)
    return FileFonts(frozenset(legacy), unicode)


@dataclass(frozen=True)
class CellText:
    """How a cell's text reads.

    ``encoding`` is ``"TCVN3"`` or ``"VNI"`` when ``text`` was converted from it, None when the
    cell is left as it was; ``unsure`` is true when kttt cannot tell (``readings`` lists the
    possible readings, for the message) and the cell must be refused.
    """

    text: str
    encoding: str | None = None
    unsure: bool = False
    readings: tuple[str, ...] = ()

    @property
    def converted(self) -> bool:
        """True when the text was converted from a legacy encoding."""
        return self.encoding is not None


def needs_check(text: str) -> bool:
    """Cheap test: only text with a non-ASCII character and no Unicode-only letter can be legacy."""
    return not text.isascii() and UNICODE_ONLY.search(text) is None


def _unsure(text: str, readings: dict[str, str]) -> CellText:
    return CellText(text, unsure=True, readings=tuple(f"{n}: {t}" for n, t in sorted(readings.items())))


def words_of(text: str) -> frozenset[str]:
    """The words of a text holding a non-ASCII letter, lower case (for a lexicon)."""
    return frozenset(w.lower() for w in _WORD.findall(unicodedata.normalize("NFC", text)) if not w.isascii())


def _known(text: str, lexicon: frozenset[str]) -> bool:
    words = words_of(text)
    return bool(words) and words <= lexicon


def may_read_otherwise(text: str, lexicon: frozenset[str] = frozenset()) -> bool:
    """False only when :func:`read_cell` without context surely takes ``text`` as it is: a cheap test by word.

    A text holding no character only legacy fonts produce, whose words are all Unicode syllables, is
    read as it is unless a legacy reading of it has only known words; its words keep their bounds in
    every reading (only letters are decoded), so that is told word by word, each word worked out once.
    """
    if not needs_check(text):
        return False
    if _LEGACY_ONLY_CHAR.search(text) is not None:
        return True
    return _words_may_read_otherwise(tuple(word for word in _WORD.findall(text) if not word.isascii()), lexicon)


_LEGACY_ONLY_CHAR = re.compile(f"[{re.escape(''.join(sorted(LEGACY_ONLY)))}]")


@lru_cache(maxsize=65536)
def _words_may_read_otherwise(words: tuple[str, ...], lexicon: frozenset[str]) -> bool:
    """:func:`may_read_otherwise` of a text without a legacy-only character, told by its non-ASCII words: the
    same few recur in many cells ("THT thôn Châu Gia 17", "… 18")."""
    facts = [_word_facts(word, lexicon) for word in words]
    if not all(valid for valid, _ in facts):
        return True
    return any(all(known[k] for _, known in facts) for k in range(len(DECODERS)))


@lru_cache(maxsize=65536)
def _word_facts(word: str, lexicon: frozenset[str]) -> tuple[bool, tuple[bool, ...]]:
    """Whether a word scores as no invalid syllable, and per decoder whether its reading could be a known word
    (a reading that is ASCII asks nothing of the lexicon; a word a decoder cannot read leaves it no reading)."""
    readings = [decode(word) for decode in DECODERS.values()]
    known = tuple(r is not None and (not words_of(r) or words_of(r) <= lexicon) for r in readings)
    return score(word).invalid == 0, known


@lru_cache(maxsize=65536)
def read_cell(text: str, context: FileFonts = NO_CONTEXT, lexicon: frozenset[str] = frozenset()) -> CellText:
    """Read a cell's text: Unicode as it is, TCVN3 or VNI converted, or unsure (see the module doc).

    ``lexicon`` holds words known to be right (the format's headers and category labels): a
    text whose words are all known is taken as it is, and a reading whose words are all known
    is preferred to one whose words are not.

    >>> read_cell("Hµ Néi").text, read_cell("Haø Noäi").text, read_cell("Kim Sôn").text
    ('Hà Nội', 'Hà Nội', 'Kim Sôn')
    >>> read_cell("Kim Sôn", FileFonts(frozenset({"VNI"}))).text
    'Kim Sơn'
    >>> read_cell("Bình Hòa").converted, read_cell("Müller").converted, read_cell("HTX 25 m²").converted
    (False, False, False)
    >>> read_cell("Höng").unsure, read_cell("Khá", FileFonts(frozenset({"TCVN3"})), frozenset({"khá"})).text
    (True, 'Khá')
    """
    if not needs_check(text):
        return CellText(text)
    decoded = {name: fn(text) for name, fn in DECODERS.items()}
    readings = {name: t for name, t in decoded.items() if t is not None and t != text}
    scores = {name: score(t) for name, t in readings.items()}
    good = {name: t for name, t in readings.items() if scores[name].invalid == 0}
    legacy_marks = any(ch in LEGACY_ONLY for ch in text)
    as_unicode = not legacy_marks and score(text).invalid == 0
    if lexicon:
        if as_unicode and _known(text, lexicon):
            return CellText(text)
        known = {name: t for name, t in good.items() if _known(t, lexicon)}
        if len(set(known.values())) == 1:
            name = sorted(known)[0]
            return CellText(known[name], encoding=name)
    pure = context.pure
    if pure in good:
        return CellText(good[pure], encoding=pure)
    if as_unicode:
        # Reads as Unicode Vietnamese; in a file that also holds legacy text it may be either.
        doubts = {n: t for n, t in good.items() if n in context.legacy and scores[n].strong}
        return _unsure(text, doubts) if doubts else CellText(text)
    strong = {name: t for name, t in good.items() if scores[name].strong}
    if len(set(strong.values())) == 1 and len(set(good.values())) == 1:
        name = sorted(strong)[0]
        return CellText(strong[name], encoding=name)
    if len(set(good.values())) > 1 or (good and not strong and legacy_marks):
        return _unsure(text, good)
    plausible = {n: t for n, t in readings.items() if scores[n].strong and scores[n].strong >= scores[n].invalid}
    if legacy_marks and plausible:
        return _unsure(text, plausible)
    return CellText(text)
