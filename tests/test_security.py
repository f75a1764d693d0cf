"""Security: formula injection in what kttt writes, paths built from submissions, the UI's address, secrets."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from forms.paths import inside, marked_name, safe_stem
from pipeline.cli import DEFAULT_UI_HOST, UI_HOST_ENV, ui_command
from pipeline.runner import run_periods
from pipeline.storage import table_path
from tests.builders import htx_rows, submission, valid_htx_row, valid_tht_row
from tests.conftest import REPO
from tests.servers import free_port, wait_for_dagster

PERIOD = "2024-Q3"
CODE = "18592"  # Thạch Liên
HOSTILE = ['=HYPERLINK("http://example.invalid/x","bấm vào đây")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _kttt(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def _rename_commune(raw: Path, code: str, name: str) -> None:
    path = raw / "reference" / "communes.csv"
    communes = pl.read_csv(path, infer_schema=False)
    communes = communes.with_columns(
        pl.when(pl.col("code") == code).then(pl.lit(name)).otherwise(pl.col("name")).alias("name")
    )
    communes.write_csv(path)


def _strings(path: Path) -> dict[str, list[openpyxl.cell.cell.Cell]]:
    """Every non-empty cell of a workbook, by sheet."""
    wb = openpyxl.load_workbook(path)
    return {ws.title: [c for row in ws.iter_rows() for c in row if c.value is not None] for ws in wb.worksheets}


# ---------------------------------------------------------------------------------------------
# 5. Formula injection


def test_formula_like_text_is_written_as_text_in_every_workbook(sample_raw: Path, tmp_path: Path) -> None:
    """Cooperative and group names (and a commune's name in communes.csv) that a spreadsheet would take for a
    formula go through the run and every writer: the report's appendix, the feedback workbooks, the marked copy
    of ``kttt validate --format xlsx`` and the template of ``kttt template --prefill``. Every workbook written
    holds them as text cells (never type ``f``), as they were; the only formulas anywhere are the template's own
    check sheet, which holds no submitted text. kttt writes no CSV file (its outputs are Parquet, xlsx, docx,
    Markdown and PNG), so there is no CSV to neutralise."""
    commune_name = '=HYPERLINK("http://example.invalid/c","Thạch Liên")'
    _rename_commune(sample_raw, CODE, commune_name)
    htx = [
        valid_htx_row(coop_id=f"HTX-{i:03}", name=name, charter_capital_mvnd=-5 if i % 2 else 500)
        for i, name in enumerate(HOSTILE, 1)
    ]
    tht = [valid_tht_row(group_id=f"THT-{i:03}", name=name) for i, name in enumerate(HOSTILE, 1)]
    source = submission(sample_raw / "2024" / "Q3" / "thach-lien.xlsx", htx, tht, commune=CODE)
    warehouse = tmp_path / "wh"
    assert all(o.success for o in run_periods(sample_raw, warehouse, [PERIOD]))
    out = tmp_path / "out"
    raw = str(sample_raw)
    marked = _kttt("validate", str(source), "--raw", raw, "--format", "xlsx", "--out", str(out), cwd=tmp_path)
    assert marked.returncode == 1, marked.stderr
    template = tmp_path / "tpl.xlsx"
    made = _kttt(
        "template", "--commune", CODE, "--period", "2024-Q4", "--prefill", "--out", str(template),
        "--raw", str(sample_raw), "--warehouse", str(warehouse), cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr

    coops = pl.read_parquet(warehouse / "cooperatives" / f"{PERIOD}.parquet").filter(pl.col("commune_code") == CODE)
    groups = pl.read_parquet(warehouse / "coop_groups" / f"{PERIOD}.parquet").filter(pl.col("commune_code") == CODE)
    stored = set(coops["name"].to_list()) | set(groups["name"].to_list())
    assert len(coops) == 3 and len(groups) == len(HOSTILE)
    assert {s.strip() for s in stored} == {h.strip() for h in HOSTILE}
    assert any(s.startswith(("=", "+", "-", "@")) for s in stored)

    written = sorted({*warehouse.rglob("*.xlsx"), *(tmp_path / "out").glob("*.xlsx"), template})
    assert {p.name for p in written} >= {"phu-bieu.xlsx", "thach-lien.kiem-tra.xlsx", "tpl.xlsx"}
    feedback = [p for p in written if p.parent.name == PERIOD and p.parent.parent.name == "feedback"]
    assert [p.name for p in feedback] == ["18592-hyperlink-http-example-invalid-c-thach-lien.xlsx"]
    text_by_file: dict[Path, list[str]] = {}
    for path in written:
        texts = []
        for sheet, cells in _strings(path).items():
            for cell in cells:
                if path == template and sheet == "KiemTra" and cell.data_type == "f":
                    assert not any(h.strip() in str(cell.value) for h in HOSTILE), cell.value
                    continue
                assert cell.data_type != "f", (path.name, sheet, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
        text_by_file[path] = texts
    assert not [p for p in tmp_path.rglob("*.csv") if not p.is_relative_to(sample_raw)]

    appendix = text_by_file[warehouse / "report" / PERIOD / "phu-bieu.xlsx"]
    assert commune_name in appendix
    assert stored <= set(text_by_file[template])
    as_sent = {(c.coordinate, c.value) for c in _strings(source)["HTX"]}
    assert as_sent <= {(c.coordinate, c.value) for c in _strings(out / "thach-lien.kiem-tra.xlsx")["HTX"]}
    assert sum(h in {v for _, v in as_sent} for h in HOSTILE) >= 5  # openpyxl reads CR back as _x000D_
    raw_values = [json.loads(t) for t in text_by_file[feedback[0]] if t.startswith("{")]
    in_feedback = {v for values in raw_values for v in values.values() if isinstance(v, str)}
    assert {HOSTILE[i].strip() for i in (0, 2, 4)} <= {v.strip() for v in in_feedback}


def test_marked_copy_keeps_formula_like_cells_as_text(tmp_path: Path) -> None:
    """The marked copy (openpyxl) of a workbook whose text cells start with formula characters, with problems
    whose messages and sheet names do too: all stay text."""
    from forms.annotate import annotate_workbook

    source = submission(tmp_path / "x.xlsx", [valid_htx_row(name=h, coop_id=f"H{i}") for i, h in enumerate(HOSTILE)])
    problems = pl.DataFrame(
        {
            "severity": ["error"] * len(HOSTILE),
            "sheet": ["HTX"] * len(HOSTILE),
            "source_row": [2 + i for i in range(len(HOSTILE))],
            "column": ["name"] * len(HOSTILE),
            "message_vi": HOSTILE,
            "message_en": HOSTILE,
            "rule": HOSTILE,
        }
    )
    out = annotate_workbook(source, problems, tmp_path / "marked.xlsx")
    cells = _strings(out)
    for sheet, found in cells.items():
        assert all(c.data_type != "f" for c in found), sheet
    listed = [c.value for c in cells["Danh sách lỗi"]]
    assert all(listed.count(h) == 3 for h in HOSTILE)
    assert {(c.coordinate, c.value) for c in cells["HTX"]} == {(c.coordinate, c.value) for c in _strings(source)["HTX"]}


# ---------------------------------------------------------------------------------------------
# 8. Paths from submissions


ESCAPES = ["../../etc/x", "..\\x", "/tmp/x", "a\x00b", "..", ".", "CON", "x/../../y", "~/.bashrc", " . ", ""]


@pytest.mark.parametrize("text", ESCAPES)
def test_safe_stem_is_a_plain_name(text: str, tmp_path: Path) -> None:
    stem = safe_stem(text)
    assert stem and "/" not in stem and "\\" not in stem and "\x00" not in stem and not stem.startswith(".")
    assert ".." not in stem and stem.upper() not in {"CON", "NUL"}
    assert inside(tmp_path, tmp_path / f"{stem}.xlsx").parent == tmp_path
    name = marked_name(Path(f"{text}.xlsx"))
    assert name.endswith(".kiem-tra.xlsx") and inside(tmp_path, tmp_path / name).parent == tmp_path


def test_inside_refuses_what_escapes(tmp_path: Path) -> None:
    for escape in ("../x.xlsx", "a/../../x.xlsx", "/tmp/x.xlsx"):
        with pytest.raises(ValueError, match="outside"):
            inside(tmp_path / "feedback", tmp_path / "feedback" / escape)
    for key in ("../../x", "2024-Q3/../../x", "/tmp/x", "2024-Q3\x00"):
        with pytest.raises(ValueError, match="YYYY-Qn"):
            table_path(tmp_path, "cooperatives", key)


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_names_from_submissions_never_place_a_file_outside_the_warehouse(sample_raw: Path, tmp_path: Path) -> None:
    """Files whose names and contents (commune, cooperative ids and names) are paths: ``../`` chains that would
    climb out of ``warehouse/feedback/<period>/``, backslashes, an absolute path, a NUL character, a Windows device
    name. After ``kttt run`` and ``kttt validate --format xlsx --out``, every new file is under the warehouse or
    the chosen output folder, and nothing appeared anywhere else (the working folder, the escape targets)."""
    escape = f"/tmp/kttt-escape-{uuid.uuid4().hex}"
    climb = "../" * 12 + escape.lstrip("/")
    values = [climb, "..\\..\\x", escape, "a\x00b", "CON"]
    q3 = sample_raw / "2024" / "Q3"
    hostile = [
        submission(q3 / "x\\..\\..\\y.xlsx", htx_rows(2), commune=climb),  # (a name starting with "." is skipped)
        submission(q3 / "CON.xlsx", [valid_htx_row(coop_id=v, name=v) for v in values], commune=escape),
        submission(q3 / "a\tb.xlsx", commune="a\x00b"),
        submission(q3 / "thach-lien.xlsx", [valid_htx_row(coop_id=climb, name=climb, members=-1)], commune=CODE),
    ]
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    before = _files(tmp_path)
    run = _kttt("run", "--raw", str(sample_raw), "--warehouse", str(tmp_path / "wh"), "--period", PERIOD, cwd=cwd)
    assert run.returncode == 0, run.stderr
    checked = _kttt(
        "validate", *map(str, hostile), "--raw", str(sample_raw), "--format", "xlsx", "--out", str(tmp_path / "out"),
        cwd=cwd,
    )  # fmt: skip
    assert checked.returncode == 1, checked.stderr
    new = _files(tmp_path) - before
    assert new and all(n.startswith(("wh/", "out/")) for n in new), sorted(new)
    assert not Path(escape).exists() and not list(cwd.iterdir())
    feedback = sorted(p.name for p in (tmp_path / "wh" / "feedback" / PERIOD).iterdir())
    assert len(feedback) == 4, feedback
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]*\.xlsx", n) for n in feedback), feedback
    assert "tep-con.xlsx" in feedback  # CON is a device on Windows, never a file name
    marked = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert marked == sorted(f"{safe_stem(p.stem)}.kiem-tra.xlsx" for p in hostile), marked
    log = pl.read_parquet(tmp_path / "wh" / "submission_log" / f"{PERIOD}.parquet")
    assert set(log.filter(pl.col("status") == "rejected")["source_file"]) == {f"2024/Q3/{p.name}" for p in hostile[:3]}


def test_run_refuses_a_period_that_is_not_a_quarter(sample_raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "wh"
    before = _files(tmp_path.parent)
    proc = _kttt("run", "--raw", str(sample_raw), "--warehouse", str(warehouse), "--period", "../../x", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Kỳ «../../x» không hợp lệ" in proc.stderr and "Invalid period '../../x'" in proc.stderr
    assert not warehouse.exists() and _files(tmp_path.parent) == before


# ---------------------------------------------------------------------------------------------
# 6. The Dagster UI listens on 127.0.0.1


def test_ui_command_binds_to_localhost_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UI_HOST_ENV, raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    argv, env = ui_command()
    assert DEFAULT_UI_HOST == "127.0.0.1"
    assert argv[1:4] == ["-m", "dagster", "dev"] and argv[argv.index("-h") + 1] == "127.0.0.1"
    assert argv[argv.index("-w") + 1] == str(REPO / "workspace.yaml")
    assert env["DAGSTER_HOME"] == str(REPO / ".dagster_home")
    monkeypatch.setenv(UI_HOST_ENV, "0.0.0.0")
    assert ui_command()[0][argv.index("-h") + 1] == "0.0.0.0"
    assert ui_command("10.1.2.3")[0][argv.index("-h") + 1] == "10.1.2.3"


_UI_START = re.compile(r"\b(dagster dev|dagster-webserver)\b")


def _commands(markdown: str) -> list[str]:
    """Command lines of a Markdown text: every line of a fenced block, and inline code that has an option."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.M | re.S)
    lines = [line for block in fenced for line in block.splitlines()]
    outside = re.sub(r"^```[^\n]*\n.*?^```", "", markdown, flags=re.M | re.S)
    return lines + [span for span in re.findall(r"`([^`\n]+)`", outside) if re.search(r"\s-{1,2}\w", span)]


def test_documented_ui_commands_name_their_host() -> None:
    """Every command in the README and the docs that starts the Dagster UI says where it listens."""
    starts = [
        (doc.name, command)
        for doc in [REPO / "README.md", *(REPO / "docs").glob("*.md")]
        for command in _commands(doc.read_text(encoding="utf-8"))
        if _UI_START.search(command)
    ]
    assert len(starts) >= 3, starts
    for doc, command in starts:
        assert re.search(r"(-h|--host) 127\.0\.0\.1\b", command), (doc, command)


def _listening(port: int) -> set[str]:
    """Local addresses listening on ``port`` (IPv4 and IPv6), from /proc/net."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if int(hex_port, 16) == port and state == "0A":
                found.add(address)
    return found


@pytest.mark.e2e
def test_kttt_ui_listens_on_localhost_only(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != UI_HOST_ENV}
    env["DAGSTER_HOME"] = str(tmp_path)
    log = (tmp_path / "ui.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "ui", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_dagster(port, tmp_path / "ui.log", "kttt ui")
        assert _listening(port) == {"0100007F"}  # 127.0.0.1, and no other address
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)
        log.close()


# ---------------------------------------------------------------------------------------------
# 7. No secret in the repository

_PLACEHOLDER = re.compile(r"^(<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{[^}]*\}|\*+|x+|\.\.\.)$")
_SECRETS = [
    ("credentials in a URL", re.compile(r"[a-z][a-z0-9+.-]*://[^\s:/@'\"]+:(?P<value>[^\s/@'\"]+)@", re.I)),
    ("AWS access key id", re.compile(r"\b(?P<value>(AKIA|ASIA)[0-9A-Z]{16})\b")),
    (
        "AWS secret key",
        re.compile(r"aws_secret_access_key['\"]?\s*[:=]\s*['\"]?(?P<value>[A-Za-z0-9/+=]{40})\b", re.I),
    ),
    ("private key", re.compile(r"-----BEGIN (?P<value>[A-Z ]*PRIVATE KEY)-----")),
    ("GitHub token", re.compile(r"\b(?P<value>gh[pousr]_[A-Za-z0-9]{36,})\b")),
    ("Slack token", re.compile(r"\b(?P<value>xox[abprs]-[A-Za-z0-9-]{10,})\b")),
    (
        "password with a value",
        re.compile(
            r"\b(password|passwd|pwd|secret|api[_-]?key|access[_-]?token)['\"]?[ \t]*[:=][ \t]*['\"]?"
            r"(?P<value>[^\s'\",;#}`\\]+)",
            re.I,
        ),
    ),
]


_TYPE_NAMES = frozenset({"str", "bytes", "int", "Optional", "SecretStr"})


def find_secrets(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) of every secret-looking value in ``text``; placeholders (``<password>``, ``${VAR}``,
    ``{env: X}``, ``***``) and values read from the environment are not secrets."""
    found = []
    for kind, pattern in _SECRETS:
        for m in pattern.finditer(text):
            value = m.group("value")
            if _PLACEHOLDER.match(value) or value.lower() in {"env", "none", "null", "true", "false"}:
                continue
            if kind == "password with a value" and re.match(r"^(os\.environ|getenv|env\b|dg\.EnvVar)", value):
                continue
            if kind == "password with a value" and value.rstrip("),;") in (_TYPE_NAMES | {m.group(1)}):
                continue  # a type annotation (``password: str | None``) or a variable passed on (``password=password``)
            found.append((kind, m.group(0)))
    return found


def _tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [REPO / name for name in listed.decode().split("\0") if name]


def test_secret_finder_finds_planted_secrets(tmp_path: Path) -> None:
    """The finder itself, on real files: each planted secret is found, each placeholder is not (the secrets are
    assembled here so that this file holds none)."""
    planted = {
        "url": "KTTT_PG_URL=postgresql://kttt:" + "s3cr3t-Pa55@db:5432/dagster",
        "aws": "key = " + "AKIA" + "IOSFODNN7EXAMPLE",
        "aws_secret": "aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
        "pem": "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIE",
        "yaml": "storage:\n  postgres:\n    pass" + "word: hunter2\n",
        "py": 'DB = {"pass' + 'word": "hunter2"}',
        "token": "token: " + "ghp_" + "a" * 36,
    }
    fine = {
        "doc": "postgresql+psycopg2://<user>:<password>@<host>:5432/dagster",
        "env": "postgres_url:\n  env: KTTT_PG_URL\npassword: ${PGPASSWORD}\n",
        "yaml_env": "password:\n  env: KTTT_PG_PASSWORD\n",
        "code": "password = os.environ['PGPASSWORD']",
        "prose": "The file is password-protected; send it without a password",
    }
    for name, text in {**planted, **fine}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for name in planted:
        assert find_secrets((tmp_path / name).read_text(encoding="utf-8")), name
    for name in fine:
        assert find_secrets((tmp_path / name).read_text(encoding="utf-8")) == [], name


def test_no_secret_in_tracked_files() -> None:
    files = _tracked_files()
    assert len(files) > 50 and REPO / "deploy" / "dagster.yaml" in files
    found = []
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # workbooks, images: binary
        found += [(path.relative_to(REPO).as_posix(), *hit) for hit in find_secrets(text)]
    assert found == [], found
    pg = (REPO / "deploy" / "dagster.yaml").read_text(encoding="utf-8")
    assert "env: KTTT_PG_URL" in pg
