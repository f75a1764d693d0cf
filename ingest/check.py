"""Check submission files on their own, without writing anything (``kttt validate``)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import polars as pl

from ingest.discover import SubmissionFile, _kind, _mtime, _sha256, display_name
from ingest.period import process_period
from ingest.reference import Reference
from ingest.submission import read_file
from schemas.periods import folder_period, parse_period


def describe_file(path: Path, raw_dir: Path | None = None) -> SubmissionFile:
    """A :class:`SubmissionFile` for any path (named relative to ``raw_dir`` when inside it)."""
    resolved = path.resolve()
    rel = path.name
    if raw_dir is not None and resolved.is_relative_to(raw_dir.resolve()):
        rel = resolved.relative_to(raw_dir.resolve()).as_posix()
    return SubmissionFile(
        path=path, rel=display_name(rel), kind=_kind(path), sha256=_sha256(path), received_at=_mtime(path)
    )


def period_of(f: SubmissionFile, password: str | None = None) -> str | None:
    """The period of a file: its ``<YYYY>/Q<n>`` folder (or that of its subfolder), else what its TongHop sheet
    says."""
    parents = f.path.resolve().parents
    for quarter, year in ((parents[0], parents[1]), (parents[1], parents[2])) if len(parents) > 2 else ():
        folder = folder_period(year.name, quarter.name)
        if folder is not None:
            return folder
    block = read_file(f, password).blocks.get("TongHop")
    if block is None or not block.rows_in:
        return None
    return parse_period(block.first("period_text"))


def check_files(
    paths: list[Path],
    reference: Reference,
    raw_dir: Path | None = None,
    period: str | None = None,
    workers: int | None = None,
    password: str | None = None,
) -> dict[str, pl.DataFrame]:
    """Validate files as the pipeline would; returns ``rejected_rows`` and ``submission_log`` of all of them.

    Files are grouped by period (their folder, their TongHop sheet, or ``period``); a
    file whose period cannot be told is checked against the first period found. `workers` and
    `password` are the `source` resource's settings, as in the pipeline.
    """
    groups: dict[str, list[SubmissionFile]] = defaultdict(list)
    unknown: list[SubmissionFile] = []
    for path in paths:
        f = describe_file(path, raw_dir)
        p = period or period_of(f, password)
        (groups[p] if p else unknown).append(f)
    if unknown:
        groups[next(iter(groups), "1900-Q1")].extend(unknown)
    rejected, logs = [], []
    for p, files in sorted(groups.items()):
        tables = process_period(files, reference, p, workers, password).tables
        rejected.append(tables["rejected_rows"])
        logs.append(tables["submission_log"])
    return {"rejected_rows": pl.concat(rejected), "submission_log": pl.concat(logs)}
