"""Review, approval and lock: which of a commune's files the figures may use, given the officer's decisions.

The officer's decisions (table `reviews`, appended and never rewritten) name a commune, a period and a file by
its SHA-256: `approved`, `returned` (with a comment for the commune) or `reopened` (an approval taken back).
The latest decision per commune and period is its review state; without any, a commune that sent a file is
`received`.

Two settings of the reference (`review` and `lock_after_days`, in `unit.yaml` or `district.yaml`) decide when a
file must wait for approval:

- `review: required`: only approved files reach the facts; any other file is `held` (read, validated, kept out of
  the figures) until it is approved (it then supersedes the older one) or returned.
- `lock_after_days: N`: the period locks N days after its deadline; a file that arrives later (its modification
  time, `received_at`, in Vietnam's time) is held the same way, whatever `review` says.

A `returned` file is rejected (rule `submission_returned`, the officer's comment in the message, so it reaches
the commune's feedback workbook) with or without these settings: the commune's previous file stands.

Everything here is plain data; the warehouse side (appending decisions) lives in `pipeline/review_store.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

import polars as pl
import yaml

from ingest.issues import Issue
from schemas import warehouse as wh
from schemas.messages import say
from schemas.periods import period_parts, quarter_end

REFERENCE_FILES = ("unit.yaml", "district.yaml")
"""Where the review settings are read from: the first of these that exists under `reference/`."""
VIETNAM = timezone(timedelta(hours=7), "ICT")
"""Vietnam keeps one offset all year: arrival dates are counted in it."""
ACTIONS = {"approve": "approved", "return": "returned", "reopen": "reopened"}
"""Command (CLI and the `review` job's config) → decision stored."""
LIVE = ("accepted", "accepted_with_errors")


class ReviewConfigError(ValueError):
    """The review settings of the reference cannot be used; the message names the file and the key."""


class ReviewRequestError(ValueError):
    """A decision cannot be made as asked (unknown unit, nothing to approve, no comment for a return …)."""


@dataclass(frozen=True)
class ReviewPolicy:
    """The review settings of a raw directory (both off by default: the latest file wins, as without review)."""

    required: bool = False
    lock_after_days: int | None = None

    def lock_date(self, period: str, deadline_days: int) -> date | None:
        """The last day (Vietnam time) a file may arrive for `period` without being held, or None (no lock)."""
        if self.lock_after_days is None:
            return None
        return quarter_end(period) + timedelta(days=deadline_days + self.lock_after_days)


def _reference_file(raw_dir: Path) -> Path | None:
    return next((p for p in (raw_dir / "reference" / n for n in REFERENCE_FILES) if p.exists()), None)


def load_review_policy(raw_dir: Path) -> ReviewPolicy:
    """`review` and `lock_after_days` from `reference/unit.yaml`, else `reference/district.yaml`.

    `review` is `required` (or `true`) to require approval; absent, `off`, `false` or `optional` leave it off.
    `lock_after_days` is a whole number of days ≥ 0, or absent. Anything else stops the run before anything is
    written (`ReviewConfigError`, naming the file).
    """
    path = _reference_file(raw_dir)
    if path is None:
        return ReviewPolicy()
    try:
        info = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ReviewConfigError(say("review_config_invalid", file=path, setting="-", value=str(exc)[:200])) from exc
    if not isinstance(info, dict):
        return ReviewPolicy()
    review = info.get("review")
    if review in (None, False, "off", "optional", "none", ""):
        required = False
    elif review is True or (isinstance(review, str) and review.strip().lower() == "required"):
        required = True
    else:
        raise ReviewConfigError(say("review_config_invalid", file=path, setting="review", value=review))
    days = info.get("lock_after_days")
    if days is not None:
        text = str(days).strip()
        if isinstance(days, bool) or not text.isdigit():
            raise ReviewConfigError(say("review_config_invalid", file=path, setting="lock_after_days", value=days))
        days = int(text)
    return ReviewPolicy(required=required, lock_after_days=days)


# ---------------------------------------------------------------------------------------------------------------
# Decisions → state


def empty_decisions() -> pl.DataFrame:
    """A `reviews` frame without rows."""
    return pl.DataFrame(schema=wh.polars_schema(wh.Reviews))


@dataclass
class UnitReview:
    """What the decisions say about one commune in one period."""

    approved_sha: str | None = None
    """The file (content) currently approved: the latest approval not taken back since."""
    approved_file: str | None = None
    returned: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Files (by SHA-256) whose latest decision is a return, with that decision."""
    latest: dict[str, Any] | None = None
    """The latest decision, whatever it is: the review state."""


def unit_reviews(decisions: pl.DataFrame) -> dict[str, UnitReview]:
    """Commune code → its review, from the decisions of one period in the order they were made."""
    units: dict[str, UnitReview] = {}
    for d in decisions.sort("decided_at", "decision_id").iter_rows(named=True):
        unit = units.setdefault(d["commune_code"], UnitReview())
        unit.latest = d
        sha = d["source_sha256"]
        if d["decision"] == "approved":
            unit.approved_sha, unit.approved_file = sha, d["source_file"]
            unit.returned.pop(sha, None)
        elif d["decision"] == "returned":
            unit.returned[sha] = d
            if unit.approved_sha == sha:
                unit.approved_sha = unit.approved_file = None
        elif d["decision"] == "reopened":
            unit.approved_sha = unit.approved_file = None
    return units


# ---------------------------------------------------------------------------------------------------------------
# Which file is live, held or superseded


class _File(Protocol):
    sha256: str
    rel: str
    received_at: datetime


class Submission(Protocol):
    """What the resolution needs of a file being processed (the ingest's per-file state)."""

    file: _File
    rejected: bool
    superseded_by: str | None
    held: bool
    commune_code: str | None
    issues: list[Issue]

    def reject(self, rule: str, *, value: object = None, detail: object = None) -> None: ...


@dataclass(frozen=True)
class Review:
    """The decisions and settings that apply to one period's files."""

    policy: ReviewPolicy
    units: dict[str, UnitReview]
    lock_date: date | None = None

    @property
    def gates(self) -> bool:
        """Whether a file may have to wait for approval in this period."""
        return self.policy.required or self.lock_date is not None

    def arrived_late(self, received_at: datetime) -> bool:
        """Whether a file arrived after the period locked (its day, in Vietnam time, is after the lock date)."""
        return self.lock_date is not None and received_at.astimezone(VIETNAM).date() > self.lock_date

    def settle(self, files: Sequence[Submission], order: Callable[[Submission], Any]) -> None:
        """One commune's files that were not rejected: reject the returned ones, then choose the live file, the
        held one and the superseded ones (`order`: the resubmission order, latest last)."""
        unit = self.units.get(files[0].commune_code or "", UnitReview()) if files else UnitReview()
        kept = []
        for s in files:
            back = unit.returned.get(s.file.sha256)
            if back is not None:
                s.reject("submission_returned", value=back["note"] or "", detail=back["decided_by"])
            else:
                kept.append(s)
        kept.sort(key=order)

        def gated(s: Submission) -> bool:
            return s.file.sha256 != unit.approved_sha and (
                self.policy.required or self.arrived_late(s.file.received_at)
            )

        eligible = [s for s in kept if not gated(s)]
        live = eligible[-1] if eligible else None
        newer = [s for s in kept if gated(s) and (live is None or order(s) > order(live))]
        held = newer[-1] if newer else None
        for s in kept:
            if s is live:
                continue
            if s is held:
                s.held = True
                late = self.arrived_late(s.file.received_at) and not self.policy.required
                s.issues.append(
                    Issue(
                        s.file.rel,
                        None,
                        None,
                        None,
                        "submission_held_late" if late else "submission_held",
                        value=self.lock_date.strftime("%d/%m/%Y") if late and self.lock_date else None,
                    )
                )
                continue
            winner = held if held is not None and (live is None or order(s) > order(live)) else live
            assert winner is not None
            s.superseded_by = winner.file.rel
            s.issues.append(Issue(s.file.rel, None, None, None, "superseded", value=winner.file.rel))


def period_review(policy: ReviewPolicy, decisions: pl.DataFrame, period: str, deadline_days: int) -> Review | None:
    """The review of a period, or None when nothing about it differs from "the latest file wins"."""
    mine = decisions.filter(pl.col("period") == period)
    if not policy.required and policy.lock_after_days is None and mine.is_empty():
        return None
    return Review(policy, unit_reviews(mine), policy.lock_date(period, deadline_days))


# ---------------------------------------------------------------------------------------------------------------
# The officer's requests → decisions


@dataclass(frozen=True)
class Request:
    """A decision asked for: `approve`, `return` or `reopen`, for one unit or (approve) every clean one."""

    action: str
    period: str
    by: str
    unit: str | None = None
    all_clean: bool = False
    note: str | None = None


def _candidates(log: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Commune → the file a decision would apply to: the one held for review, else the live one."""
    rows = log.filter(pl.col("commune_code").is_not_null() & (pl.col("file_kind") != "district"))
    out: dict[str, dict[str, Any]] = {}
    for r in rows.filter(pl.col("status").is_in(LIVE)).iter_rows(named=True):
        out[r["commune_code"]] = r
    for r in rows.filter(pl.col("status") == "held").iter_rows(named=True):
        out[r["commune_code"]] = r
    return out


def plan(
    request: Request,
    log: pl.DataFrame,
    rejected: pl.DataFrame,
    decisions: pl.DataFrame,
    resolve: Callable[[str], str | None],
    now: datetime | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """The decisions to append for `request`, from the period's stored submission log and rejected rows and the
    decisions made so far; with what to tell the officer about units left as they were.

    Raises `ReviewRequestError` (a bilingual message) when the request cannot be carried out: nothing is then
    written.
    """
    period = request.period
    decision = ACTIONS.get(request.action)
    if decision is None:
        raise ReviewRequestError(say("review_bad_action", action=request.action))
    by = (request.by or "").strip()
    if not by:
        raise ReviewRequestError(say("review_by_required"))
    note = (request.note or "").strip() or None
    if decision == "returned" and note is None:
        raise ReviewRequestError(say("review_note_required"))
    if request.all_clean and decision != "approved":
        raise ReviewRequestError(say("review_all_clean_approve_only"))
    if bool(request.unit) == request.all_clean:
        raise ReviewRequestError(say("review_unit_or_all"))
    log = log.filter(pl.col("period") == period)
    if log.is_empty():
        raise ReviewRequestError(say("review_not_run", period=period))
    units = unit_reviews(decisions.filter(pl.col("period") == period))
    candidates = _candidates(log)
    told: list[str] = []
    chosen: list[tuple[str, str, str]] = []  # commune, file, sha
    if request.all_clean:
        errors = set(
            rejected.filter((pl.col("period") == period) & (pl.col("severity") == "error"))["source_file"].to_list()
        )
        for code, row in sorted(candidates.items()):
            if row["source_file"] in errors:
                told.append(say("review_not_clean", unit=code, file=row["source_file"]))
            elif units.get(code, UnitReview()).approved_sha == row["source_sha256"]:
                continue
            else:
                chosen.append((code, row["source_file"], row["source_sha256"]))
    else:
        code = resolve(str(request.unit))
        if code is None:
            raise ReviewRequestError(say("review_unit_unknown", unit=request.unit))
        unit = units.get(code, UnitReview())
        if decision == "reopened":
            if unit.approved_sha is None:
                raise ReviewRequestError(say("review_not_approved", unit=code, period=period))
            chosen.append((code, unit.approved_file or "", unit.approved_sha))
        else:
            row = candidates.get(code)
            if row is None:
                raise ReviewRequestError(say("review_no_file", unit=code, period=period))
            if decision == "approved" and unit.approved_sha == row["source_sha256"]:
                told.append(say("review_already", unit=code, file=row["source_file"]))
            else:
                chosen.append((code, row["source_file"], row["source_sha256"]))
    year, quarter = period_parts(period)
    stamp = now or datetime.now(UTC)
    rows = [
        {
            "period": period,
            "year": year,
            "quarter": quarter,
            "commune_code": code,
            "decision": decision,
            "source_file": file,
            "source_sha256": sha,
            "decided_by": by,
            "decided_at": stamp,
            "note": note,
            "decision_id": uuid.uuid4().hex,
        }
        for code, file, sha in chosen
    ]
    return pl.DataFrame(rows, schema=wh.polars_schema(wh.Reviews)), told


def states_table(decisions: pl.DataFrame, period: str) -> pl.DataFrame:
    """One row per commune with a decision in `period`: its state (latest decision), who, when, the comment."""
    units = unit_reviews(decisions.filter(pl.col("period") == period))
    rows = [
        {
            "commune_code": code,
            "review_state": u.latest["decision"],
            "decided_by": u.latest["decided_by"],
            "decided_at": u.latest["decided_at"],
            "note": u.latest["note"],
            "source_file": u.latest["source_file"],
            "approved_file": u.approved_file,
        }
        for code, u in sorted(units.items())
        if u.latest is not None
    ]
    schema = {
        "commune_code": pl.String,
        "review_state": pl.String,
        "decided_by": pl.String,
        "decided_at": pl.Datetime("us", "UTC"),
        "note": pl.String,
        "source_file": pl.String,
        "approved_file": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)
