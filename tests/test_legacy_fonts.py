"""Text typed in the legacy Vietnamese font encodings TCVN3 (ABC) and VNI.

The converter is checked on real words (communes.csv, the sample's name lists, the
format's own labels), on every Vietnamese letter, and by properties over random
Vietnamese text; then real workbooks and CSV folders typed in TCVN3 or VNI go through
``process_period`` and their names land in the facts in Unicode, with a warning per
converted cell, while a Unicode file is left as it is.
"""

from __future__ import annotations

import csv
import json
import random
import unicodedata
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.legacy_fonts import (
    ENCODERS,
    LEGACY_ONLY,
    NO_CONTEXT,
    TONES,
    VOWELS,
    FileFonts,
    from_tcvn3,
    from_vni,
    is_syllable,
    may_read_otherwise,
    read_cell,
    score,
    to_tcvn3,
    to_vni,
)
from ingest.sheet import format_words
from ingest.workbook import decode_text
from sample import generate, words
from schemas.rules import RULES
from schemas.vocab import BY_NAME
from tests.builders import (
    COMMUNES_CSV,
    REPORT_DATE,
    _sheet_grids,
    communes,
    csv_bytes,
    header,
    htx_rows,
    issues,
    log_row,
    make_raw_dir,
    q3,
    run,
    submission,
    valid_htx_row,
    valid_tht_row,
    write_xlsx,
)

PURE = {name: FileFonts(frozenset({name})) for name in ENCODERS}

# ---------------------------------------------------------------------------------------------
# Real words


def _real_texts() -> list[str]:
    """Names and labels a commune types: communes.csv, the sample's name lists, category labels."""
    texts: set[str] = set()
    with COMMUNES_CSV.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            texts |= {row["name"], row["district"], row["province"], row["name_2025"]}
    texts |= set(words.NAME_WORDS) | set(words.VILLAGE_FIRST) | set(words.VILLAGE_SECOND)
    texts |= {n.name for n in (*generate.NAMED_HTX, *generate.NAMED_THT) if n.name}
    texts |= {f"thôn {a} {b}" for a in words.VILLAGE_FIRST for b in words.VILLAGE_SECOND}
    for vocab in BY_NAME.values():
        texts |= {t.label_vi for t in vocab.terms}
    return sorted(unicodedata.normalize("NFC", t) for t in texts if t and not t.isascii())


REAL = _real_texts()
SYLLABLES = sorted({w for t in REAL for w in t.split() if w.isalpha() and is_syllable(w)})


def test_the_word_lists_are_real_and_large() -> None:
    assert len(REAL) > 150
    assert {"Thạch Liên", "HTX Trường Thủy", "thôn Vĩnh Mỹ", "Khá", "Nông nghiệp"} <= set(REAL)
    assert len(SYLLABLES) > 100


@pytest.mark.parametrize(
    ("tcvn3", "unicode"),
    [
        ("Hµ Néi", "Hà Nội"),
        ("Th¹ch Hµ", "Thạch Hà"),
        ("Hµ TÜnh", "Hà Tĩnh"),
        ("HTX N«ng nghiÖp §ång TiÕn", "HTX Nông nghiệp Đồng Tiến"),
        ("HTX Tr\u00adêng Thñy", "HTX Trường Thủy"),
        ("Tæ hîp t¸c s¶n xuÊt giß Xu©n Thanh", "Tổ hợp tác sản xuất giò Xuân Thanh"),
        ("Vèn ®iÒu lÖ (triÖu ®ång)", "Vốn điều lệ (triệu đồng)"),
        ("Tªn HTX", "Tên HTX"),
        ("X· Ých HËu", "Xã Ích Hậu"),
        ("hép møt tÕt", "hộp mứt tết"),
        ("HîP T¸C X· N¤NG NGHIÖP", "HỢP TÁC XÃ NÔNG NGHIỆP"),
        ("UBND X· Th¹ch L\u00adu", "UBND Xã Thạch Lưu"),
        ("§¾k L¾k", "Đắk Lắk"),
    ],
)
def test_tcvn3_words(tcvn3: str, unicode: str) -> None:
    assert from_tcvn3(tcvn3) == unicode
    reading = read_cell(tcvn3)
    assert (reading.text, reading.encoding, reading.unsure) == (unicode, "TCVN3", False)


@pytest.mark.parametrize(
    ("vni", "unicode"),
    [
        ("Haø Noäi", "Hà Nội"),
        ("Thaïch Haø", "Thạch Hà"),
        ("HTX Noâng nghieäp Ñoàng Tieán", "HTX Nông nghiệp Đồng Tiến"),
        ("HTX Tröôøng Thuûy", "HTX Trường Thủy"),
        ("Toå hôïp taùc saûn xuaát gioø Xuaân Thanh", "Tổ hợp tác sản xuất giò Xuân Thanh"),
        ("Voán ñieàu leä (trieäu ñoàng)", "Vốn điều lệ (triệu đồng)"),
        ("Teân HTX", "Tên HTX"),
        ("Xaõ Ích Haäu", "Xã Ích Hậu"),
        ("HÔÏP TAÙC XAÕ NOÂNG NGHIEÄP", "HỢP TÁC XÃ NÔNG NGHIỆP"),
        ("Thò traán Ñoàng Loäc", "Thị trấn Đồng Lộc"),
        ("Kyø Phong, Myõ Loäc", "Kỳ Phong, Mỹ Lộc"),
    ],
)
def test_vni_words(vni: str, unicode: str) -> None:
    assert from_vni(vni) == unicode
    reading = read_cell(vni)
    assert (reading.text, reading.encoding, reading.unsure) == (unicode, "VNI", False)


def test_tables_cover_every_vietnamese_letter() -> None:
    """Every vowel with every tone, both cases, and đ, encode and decode back (TCVN3 capitals with a
    tone have no code of their own: they come back in lower case on their own, in capitals in a word)."""
    letters = [unicodedata.normalize("NFC", v + t) for v in VOWELS for t in TONES] + ["đ"]
    assert len(letters) == 73
    for letter in letters:
        for case in (letter, letter.upper()):
            assert from_vni(to_vni(case)) == case
            assert to_vni(case) != case or case in "íìÍÌaeiouyAEIOUY"
        assert from_tcvn3(to_tcvn3(letter)) == letter
        assert from_tcvn3(to_tcvn3("X" + letter.upper() + "X")) == "X" + letter.upper() + "X"
    assert len({to_tcvn3(ch) for ch in letters}) == 73, "one TCVN3 code per lowercase letter"
    assert len({to_vni(ch) for ch in letters} | {to_vni(ch.upper()) for ch in letters}) == 146


def test_codes_are_those_of_the_fonts() -> None:
    """A few byte values as the .VnTime and VNI-Times fonts define them (a workbook stores them as Latin-1)."""
    tcvn3 = {0xB5: "à", 0xB8: "á", 0xB9: "ạ", 0xAD: "ư", 0xAE: "đ", 0xA7: "Đ", 0xA1: "Ă", 0xE9: "ộ", 0xFE: "ỵ"}
    for byte, letter in tcvn3.items():
        assert from_tcvn3(bytes([byte]).decode("latin-1")) == letter
    vni = {b"a\xf9": "á", b"a\xf8": "à", b"a\xfb": "ả", b"a\xf5": "ã", b"a\xef": "ạ", b"a\xe2": "â", b"a\xea": "ă"}
    vni |= {b"\xf4": "ơ", b"\xf6": "ư", b"\xf1": "đ", b"\xd1": "Đ", b"\xee": "ỵ", b"\xf2": "ị", b"A\xd9": "Á"}
    for data, letter in vni.items():
        assert from_vni(data.decode("latin-1")) == letter


@pytest.mark.parametrize("text", REAL)
def test_real_names_round_trip(text: str) -> None:
    """In a file typed in one legacy font, every real name comes back exactly; on its own it comes back
    or is refused as unsure, or stays as written when that is itself valid Unicode — never a wrong text."""
    assert read_cell(text) == read_cell(text, NO_CONTEXT) and read_cell(text).text == text
    assert not read_cell(text).unsure and not read_cell(text).converted
    for name, encode in ENCODERS.items():
        encoded = encode(text)
        assert read_cell(encoded, PURE[name]).text == text, (name, encoded)
        alone = read_cell(encoded)
        if not alone.unsure and alone.text != text:
            assert alone.text == encoded and not any(ch in LEGACY_ONLY for ch in encoded), (name, encoded, alone)


@pytest.mark.parametrize(
    "text",
    ["Bình Hòa", "Hoà Yên", "Café", "Müller", "HTX 25 m²", "Hoa «Sen»", "Tân An", "Kỳ Anh", "2024-Q3", "Xuân – Hạ"],
)
def test_unicode_and_foreign_text_is_left_alone(text: str) -> None:
    reading = read_cell(text)
    assert (reading.text, reading.converted, reading.unsure) == (text, False, False)


def test_text_that_reads_two_ways_is_unsure() -> None:
    """``Höng`` is Hửng in TCVN3 and Hưng in VNI: nothing else in the cell tells which."""
    reading = read_cell("Höng")
    assert reading.unsure and not reading.converted
    assert set(reading.readings) == {"TCVN3: Hửng", "VNI: Hưng"}
    assert read_cell("Höng", PURE["VNI"]).text == "Hưng"
    assert read_cell("HTX N«ng nghiÖpp").unsure, "one broken word in a TCVN3 text"


def test_a_file_that_mixes_unicode_and_legacy_text_keeps_the_format_labels() -> None:
    """A Unicode template filled in with .VnTime: the labels stay (they are the format's), names convert,
    and a name that is valid both ways is refused."""
    mixed = FileFonts(frozenset({"TCVN3"}), unicode=True)
    words = frozenset({"khá", "có", "mã", "tên", "không", "xã"})
    for label in ("Khá", "Có", "Mã HTX", "Không"):
        assert read_cell(label, mixed, words).text == label
    assert read_cell("Phó", mixed).unsure, "Phó (Unicode) or Phú (TCVN3)"
    assert read_cell("Phó").text == "Phó", "without legacy text around, valid Unicode stays"


# ---------------------------------------------------------------------------------------------
# Properties


CASES = ("lower", "title", "upper")


@st.composite
def vietnamese_text(draw: st.DrawFn) -> tuple[str, str]:
    """A text of real syllables in lower, Title or UPPER case, with digits and punctuation."""
    words = draw(st.lists(st.sampled_from(SYLLABLES), min_size=1, max_size=6))
    style = draw(st.sampled_from(CASES))
    words = [w.lower() if style == "lower" else w.title() if style == "title" else w.upper() for w in words]
    seps = draw(st.lists(st.sampled_from([" ", " ", " ", ", ", " - ", " 2024 "]), min_size=len(words) - 1, max_size=5))
    text = words[0] + "".join(s + w for s, w in zip(seps, words[1:], strict=False))
    return text, style


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vietnamese_text(), st.sampled_from(sorted(ENCODERS)))
def test_property_legacy_text_of_a_legacy_file_converts_back(sample: tuple[str, str], name: str) -> None:
    text, style = sample
    reading = read_cell(ENCODERS[name](text), PURE[name])
    if name == "VNI" or style == "lower":
        assert reading.text == text
    else:  # TCVN3 has no codes for capitals with a tone: the case comes from the word's other letters
        assert reading.text.casefold() == text.casefold()


@settings(max_examples=400, deadline=None)
@given(vietnamese_text(), st.sampled_from(sorted(ENCODERS)))
def test_property_legacy_text_alone_converts_back_or_is_refused(sample: tuple[str, str], name: str) -> None:
    text, style = sample
    encoded = ENCODERS[name](text)
    reading = read_cell(encoded)
    if reading.unsure:
        assert reading.text == encoded
    elif reading.converted:
        assert (
            reading.text == text if (name == "VNI" or style == "lower") else reading.text.casefold() == text.casefold()
        )
    else:  # left as written: only when that is itself Vietnamese in Unicode (or the text has no accent)
        assert reading.text == encoded
        assert encoded == text or (not any(ch in LEGACY_ONLY for ch in encoded) and score(encoded).invalid == 0)


@settings(max_examples=400, deadline=None)
@given(vietnamese_text())
def test_property_unicode_text_is_never_altered(sample: tuple[str, str]) -> None:
    text, _ = sample
    for context in (NO_CONTEXT, FileFonts(unicode=True)):
        reading = read_cell(text, context)
        assert (reading.text, reading.converted, reading.unsure) == (text, False, False)
    assert read_cell(unicodedata.normalize("NFD", text)).text == unicodedata.normalize("NFD", text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)), st.sampled_from([NO_CONTEXT, *PURE.values()]))
def test_property_ascii_is_never_altered(text: str, context: FileFonts) -> None:
    reading = read_cell(text, context)
    assert (reading.text, reading.converted, reading.unsure) == (text, False, False)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=40))
def test_property_any_text_converts_only_to_vietnamese(text: str) -> None:
    reading = read_cell(text)
    if reading.converted:
        assert score(reading.text).invalid == 0
        assert reading.text != text
    if not reading.converted:
        assert reading.text == text


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    vietnamese_text(),
    st.sampled_from(["unicode", *sorted(ENCODERS)]),
    st.lists(st.sampled_from(sorted(format_words())), max_size=3),
)
def test_property_the_quick_test_never_skips_a_cell_read_otherwise(
    sample: tuple[str, str], name: str, labels: list[str]
) -> None:
    """`may_read_otherwise` lets the columnar cut skip `read_cell` for most Unicode cells: it must say True for
    every cell `read_cell` would convert or doubt (here: Unicode, TCVN3 and VNI texts, with the format's own
    words that the lexicon knows)."""
    text = " ".join([sample[0], *labels]) if labels else sample[0]
    cell = text if name == "unicode" else ENCODERS[name](text)
    reading = read_cell(cell, NO_CONTEXT, format_words())
    if reading.converted or reading.unsure:
        assert may_read_otherwise(cell, format_words()), (cell, reading)


def test_conversion_of_random_legacy_text_is_never_wrong() -> None:
    """Over many random texts: read alone, a legacy text is converted back, refused, or (rarely) left when
    it is valid Unicode itself; never turned into another text. Most come back."""
    rng = random.Random(5)
    outcomes = {"back": 0, "unsure": 0, "left": 0}
    for _ in range(3000):
        words = [rng.choice(SYLLABLES) for _ in range(rng.randint(2, 5))]
        text = " ".join(words)
        for encode in ENCODERS.values():
            encoded = encode(text)
            reading = read_cell(encoded)
            if reading.unsure:
                outcomes["unsure"] += 1
            elif reading.text.casefold() == text.casefold():
                outcomes["back"] += 1
            else:
                assert reading.text == encoded, (text, encoded, reading)
                outcomes["left"] += 1
    total = sum(outcomes.values())
    assert outcomes["back"] / total > 0.9, outcomes
    assert outcomes["left"] / total < 0.02, outcomes


# ---------------------------------------------------------------------------------------------
# Through the pipeline


def _legacy(value: Any, encode) -> Any:
    return encode(value) if isinstance(value, str) else value


def _names(tables: dict[str, pl.DataFrame], source: str) -> list[str]:
    coops = tables["cooperatives"].filter(pl.col("source_file") == source).sort("source_row")
    return coops["name"].to_list()


NAMES = ["HTX Nông nghiệp Đồng Tiến", "HTX Trường Thủy", "HTX Dịch vụ thương mại Phú Thịnh"]


def _rows() -> list[dict[str, Any]]:
    return [valid_htx_row(coop_id=f"HTX-00{i + 1}", name=n) for i, n in enumerate(NAMES)]


@pytest.fixture(scope="module")
def legacy_period(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """One quarter with: a Unicode template filled in TCVN3 (names, commune, one header); a workbook typed
    wholly in VNI; the same workbook in Unicode; a TCVN3 CSV folder; a file with a cell that reads two ways."""
    raw = make_raw_dir(tmp_path_factory.mktemp("legacy"))
    pool = communes()
    commune = {"tcvn3": pool[0], "vni": pool[1], "unicode": pool[2], "csv": pool[3], "unsure": pool[4]}

    rows = [{**r, "name": to_tcvn3(r["name"])} for r in _rows()]
    headers = {"HTX": {"name": to_tcvn3(header("HTX", "name"))}}
    submission(q3(raw) / "tcvn3.xlsx", htx=rows, commune=to_tcvn3(commune["tcvn3"][1]), headers=headers)

    for name, encode in (("vni", to_vni), ("unicode", str)):
        grids = _sheet_grids(
            _rows(), [valid_tht_row()], None, "plain", ["BÁO CÁO HỢP TÁC XÃ"], None, None,
            commune[name][1], "Quý 3/2024", REPORT_DATE,
        )  # fmt: skip
        write_xlsx(
            q3(raw) / f"{name}.xlsx", {k: [[_legacy(v, encode) for v in r] for r in g] for k, g in grids.items()}
        )

    grids = _sheet_grids(
        _rows(), [valid_tht_row()], None, "plain", [], None, None, commune["csv"][1], "Quý 3/2024", REPORT_DATE
    )
    folder = q3(raw) / "tcvn3-csv"
    folder.mkdir()
    for sheet, cells in grids.items():
        data = csv_bytes([[_legacy(v, to_tcvn3) for v in r] for r in cells], encoding="latin-1")
        (folder / f"{sheet}.csv").write_bytes(data)

    unsure = [*htx_rows(2), valid_htx_row(coop_id="HTX-009", name="HTX Höng")]
    submission(q3(raw) / "unsure.xlsx", htx=unsure, commune=commune["unsure"][1])
    return run(raw), {k: v[0] for k, v in commune.items()}


def test_tcvn3_names_commune_and_header_are_read(legacy_period) -> None:
    tables, codes = legacy_period
    src = "2024/Q3/tcvn3.xlsx"
    assert _names(tables, src) == NAMES
    log = log_row(tables, src)
    assert (log["status"], log["commune_code"], log["rows_accepted"]) == ("accepted", codes["tcvn3"], 5)
    coops = tables["cooperatives"].filter(pl.col("source_file") == src)
    assert set(coops["commune_code"]) == {codes["tcvn3"]}

    found = issues(tables, source_file=src, rule="text_legacy_font_converted")
    assert found["severity"].unique().to_list() == ["warning"]
    assert log["warnings"] == found.height == 5  # header, three names, commune
    head = issues(tables, source_file=src, rule="text_legacy_font_converted", sheet="HTX", source_row=1).row(
        0, named=True
    )
    assert head["column"] == "name"
    assert "«Tªn HTX»" in head["message_vi"] and "«Tên HTX»" in head["message_vi"]
    assert "'Tªn HTX'" in head["message_en"] and "'Tên HTX'" in head["message_en"]
    for i, name in enumerate(NAMES):
        line = issues(tables, source_file=src, rule="text_legacy_font_converted", sheet="HTX", source_row=i + 2)
        msg = line.row(0, named=True)
        assert msg["column"] == "name"
        for text, row_word in ((msg["message_vi"], "dòng"), (msg["message_en"], "row")):
            assert src in text and "sheet HTX" in text and f"{row_word} {i + 2}" in text and "Tên HTX" in text
            assert to_tcvn3(name) in text and name in text
    commune_line = issues(tables, source_file=src, rule="text_legacy_font_converted", sheet="TongHop")
    assert commune_line.row(0, named=True)["column"] == "commune"


def test_a_workbook_typed_wholly_in_vni_gives_the_unicode_facts(legacy_period) -> None:
    tables, codes = legacy_period
    lineage = ["source_file", "source_sha256", "commune_code", "commune_name"]
    for table in ("cooperatives", "coop_groups", "commune_summaries"):
        own = [*lineage, "commune"] if table == "commune_summaries" else lineage  # two different communes
        vni = tables[table].filter(pl.col("source_file") == "2024/Q3/vni.xlsx").drop(own, strict=False)
        uni = tables[table].filter(pl.col("source_file") == "2024/Q3/unicode.xlsx").drop(own, strict=False)
        assert vni.height == uni.height > 0
        assert vni.to_dicts() == uni.to_dicts(), table
    log = log_row(tables, "2024/Q3/vni.xlsx")
    assert (log["status"], log["commune_code"]) == ("accepted", codes["vni"])
    summary = tables["commune_summaries"].filter(pl.col("source_file") == "2024/Q3/vni.xlsx").row(0, named=True)
    assert summary["commune"] == dict(communes())[codes["vni"]]
    found = issues(tables, source_file="2024/Q3/vni.xlsx", rule="text_legacy_font_converted")
    assert found.height > 20  # headers, labels, names, commune, period
    assert issues(tables, source_file="2024/Q3/vni.xlsx", severity="error").is_empty()


def test_a_unicode_file_is_untouched(legacy_period) -> None:
    tables, _ = legacy_period
    src = "2024/Q3/unicode.xlsx"
    assert _names(tables, src) == NAMES
    assert issues(tables, source_file=src).filter(pl.col("rule").str.starts_with("text_legacy")).is_empty()
    assert log_row(tables, src)["warnings"] == 0


def test_a_tcvn3_csv_folder_is_read(legacy_period) -> None:
    tables, codes = legacy_period
    src = "2024/Q3/tcvn3-csv"
    assert _names(tables, src) == NAMES
    log = log_row(tables, src)
    assert (log["status"], log["commune_code"]) == ("accepted", codes["csv"])
    assert issues(tables, source_file=src, rule="text_legacy_font_converted").height > 20


def test_a_cell_that_reads_two_ways_rejects_its_row(legacy_period) -> None:
    tables, _ = legacy_period
    src = "2024/Q3/unsure.xlsx"
    line = issues(tables, source_file=src, rule="text_legacy_font_unsure").row(0, named=True)
    assert (line["sheet"], line["source_row"], line["column"], line["severity"]) == ("HTX", 4, "name", "error")
    assert "«HTX Höng»" in line["message_vi"] and "HTX Hưng" in line["message_vi"] and "HTX Hửng" in line["message_vi"]
    assert "'HTX Höng'" in line["message_en"] and "retype" in line["message_en"]
    log = log_row(tables, src)
    assert log["status"] == "accepted_with_errors"
    assert log["rows_in"] == log["rows_accepted"] + log["rows_rejected"] and log["rows_rejected"] == 1
    kept = tables["cooperatives"].filter(pl.col("source_file") == src)
    assert kept["source_row"].to_list() == [2, 3]
    assert json.loads(line["raw_values"])["Tên HTX"] == "HTX Höng", "the row's cells as written"


def test_csv_bytes_in_windows_1258_are_still_windows_1258() -> None:
    from tests.builders import encode_cp1258

    text = "Mã HTX,Tên HTX\r\nHTX-001,HTX Nông nghiệp Thạch Hà\r\n"
    assert unicodedata.normalize("NFC", decode_text(encode_cp1258(text))) == text
    assert decode_text(to_tcvn3(text).encode("latin-1")) == to_tcvn3(text)


def test_rules_are_in_the_catalogue() -> None:
    assert RULES["text_legacy_font_converted"].severity == "warning"
    assert RULES["text_legacy_font_unsure"].severity == "error"
