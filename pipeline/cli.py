"""`kttt`: run the pipeline, check submission files, regenerate the sample district.

    kttt run [--raw DIR] [--warehouse DIR] [--period 2024-Q3 ...] [--wait SECONDS] [--no-report] [--all]
    kttt withdraw --period 2024-Q3 [--raw DIR] [--warehouse DIR]
    kttt validate FILE... [--raw DIR] [--period 2024-Q3] [--format text|json|xlsx] [--out DIR]
    kttt sample [--raw DIR] [--later] [--province [NAME]]
    kttt history TAX_CODE_OR_NAME [--warehouse DIR]
    kttt docs [--out docs]
    kttt template --commune CODE --period 2025-Q1 [--prefill] [--out FILE]
    kttt ui [--host 127.0.0.1] [--port 3000]
    kttt review approve|return|reopen --period P (--unit CODE | --all-clean) --by NAME [--note TEXT]

`run` exits 0 whatever the submissions held (problems are in the warehouse); it
exits 1 only when the pipeline itself failed (including when the warehouse cannot be
written: disk full, read-only), 2 on a wrong argument or setting, and 3 when another run of the
same period held the warehouse for longer than `--wait` seconds (nothing written).
`validate` exits 1 when a file has errors, so a clerk (or a script) knows the file
would lose rows.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.collector import lasting_imports, leaving
from pipeline.lean_imports import pandera_for_polars_only
from pipeline.polars_engine import in_memory_queries

with lasting_imports():  # Dagster and polars live as long as the command (see `pipeline.collector`)
    pandera_for_polars_only()
    in_memory_queries()
    import polars as pl
    from dagster import DagsterInvalidConfigError

    from forms.paths import inside, marked_name, safe_stem
    from pipeline.locks import DEFAULT_WAIT
    from pipeline.resources import (
        DEFAULT_RAW,
        DEFAULT_WAREHOUSE,
        RAW_ENV,
        WAREHOUSE_ENV,
        SubmissionSource,
        resolved_resources,
    )
    from schemas.messages import say
    from schemas.periods import is_period_key

if TYPE_CHECKING:
    from ingest.reference import Reference


def _absolute(location: str) -> str:
    """A folder made absolute, or an object-store URL (`s3://…`) kept as it is."""
    return location if "://" in location else str(Path(location).resolve())


def _settings(args: argparse.Namespace) -> tuple[SubmissionSource, Path, str]:
    """The `source` resource, the raw directory and the warehouse location, exactly as the pipeline's resources
    have them (the arguments, else the environment, else the defaults).

    A setting the resources cannot take (`KTTT_READ_WORKERS=abc`) stops the command here, exit 2, before
    anything is written.
    """
    try:
        source, warehouse = resolved_resources(getattr(args, "raw", None), getattr(args, "warehouse", None))
    except DagsterInvalidConfigError as exc:
        found = re.search(r'env variable "([A-Za-z0-9_]+)"', str(exc))
        name = found.group(1) if found else "KTTT_*"
        print(say("bad_setting", name=name, value=os.environ.get(name, "")), file=sys.stderr)
        raise SystemExit(2) from exc
    return source, Path(source.raw_dir).resolve(), _absolute(warehouse.path)


def _has_problem(row: dict) -> bool:
    return row["status"] != "accepted" or row["rows_rejected"] > 0 or row["warnings"] > 0


def _print_summary(warehouse: str, periods: list[str], show_all: bool = False, raw: Path | None = None) -> None:
    """Per quarter: communes submitted, files by status, then the files with a problem (every file with
    `show_all`), and the paths of `raw` that are not submissions; the full table is always in `submission_log`."""
    from ingest.discover import skip_reason, skipped_paths
    from pipeline.storage import read_table

    try:
        log = read_table(warehouse, "submission_log", periods)
        comp = read_table(warehouse, "completeness", periods)
    except FileNotFoundError:
        return
    names = dict(comp.select("commune_code", "commune_name").unique().iter_rows())
    for period in periods:
        rows = log.filter(pl.col("period") == period).sort("commune_code", "source_file", nulls_last=True)
        c = comp.filter(pl.col("period") == period)
        print(
            "\n"
            + say(
                "period_summary",
                period=period,
                submitted=int(c["submitted"].sum()),
                expected=c.height,
                on_time=int(c["on_time"].sum()),
            )
        )
        status = rows["status"]
        print(
            "  "
            + say(
                "summary_files",
                accepted=int((status == "accepted").sum()),
                with_errors=int((status == "accepted_with_errors").sum()),
                rejected=int((status == "rejected").sum()),
                superseded=int((status == "superseded").sum()),
            )
        )
        shown = [r for r in rows.iter_rows(named=True) if show_all or _has_problem(r)]
        if shown:
            print("  " + say("summary_header"))
        elif not show_all:
            print("  " + say("summary_no_problem"))
        for r in shown:
            name = names.get(r["commune_code"], r["commune_code"] or "-")
            print(
                f"  {name:<22} {r['source_file'].split('/')[-1]:<34} {r['status']:<21} "
                f"{r['rows_accepted']:>8} {r['rows_rejected']:>8} {r['warnings']:>8}"
            )
        if not show_all and shown:
            print("  " + say("summary_problems_only", shown=len(shown), total=rows.height))
        missing = c.filter(~pl.col("submitted"))["commune_name"].to_list()
        if missing:
            print("  " + say("not_submitted", names=", ".join(missing)))
        if raw is not None:
            skipped = skipped_paths(raw, period)
            for path in skipped:
                print(f"  {say('skipped', path=path.relative_to(raw).as_posix())}: {skip_reason(path, raw)}")


def _reference(raw: Path) -> Reference | None:
    """The raw directory's reference, or None after printing why its configuration is wrong (a broken unit
    list or reporting unit, a scale-thresholds file that cannot be read, a wrong review setting), before any
    submission is read or anything written."""
    from ingest.reference import load_reference
    from ingest.review import ReviewConfigError, load_review_policy
    from ingest.scale import ThresholdError
    from ingest.units import ReferenceConfigError

    try:
        reference = load_reference(raw)
        load_review_policy(raw)
    except (ReferenceConfigError, ThresholdError, ReviewConfigError) as exc:
        print(str(exc), file=sys.stderr)
        return None
    return reference


def cmd_run(args: argparse.Namespace) -> int:
    """Materialize all assets for the chosen periods (default: every quarter folder)."""
    with lasting_imports():  # the asset definitions, pandera and Dagster's execution machinery
        from ingest.progress import listening
        from pipeline.console import FileProgress
        from pipeline.runlog import details_to_log
        from pipeline.runner import run_periods

    _, raw, warehouse = _settings(args)
    if not (raw / "reference" / "communes.csv").exists():
        print(say("no_reference", raw=raw), file=sys.stderr)
        return 2
    if _reference(raw) is None:
        return 2
    periods = args.period or SubmissionSource(raw_dir=str(raw)).periods()
    bad = [p for p in periods if not is_period_key(p.strip().upper())]
    if bad:
        print(say("bad_period", period=bad[0]), file=sys.stderr)
        return 2
    periods = [p.strip().upper() for p in periods]
    if not periods:
        print(say("no_periods", raw=raw), file=sys.stderr)
        return 0
    print(f"kttt: {raw} → {warehouse} ({', '.join(periods)})", file=sys.stderr)
    # Dagster's own lines (a failed step's stack traces among them) go to the run's log, not the terminal.
    with details_to_log() as (terminal, log_path), listening(FileProgress(terminal)):
        outcomes = run_periods(
            raw,
            warehouse,
            periods,
            on_progress=lambda m: print(m, file=terminal, flush=True),
            lock_wait=args.wait,
            report=not args.no_report,
        )
    if log_path is not None and not all(o.success for o in outcomes):
        print(say("run_log", path=log_path), file=sys.stderr)
    done = [o.period for o in outcomes if o.success and o.period in periods]
    _print_summary(warehouse, done, args.all, raw)
    if done:
        print("\n" + say("tables_written", warehouse=warehouse))
    for period in [] if args.no_report else done:
        print(say("report_written", period=period, path=f"{warehouse}/report/{period}"))
    storage = next((o.storage_error for o in outcomes if o.storage_error), None)
    if storage:
        print(storage, file=sys.stderr)
        return 1
    if any(o.refused for o in outcomes):
        for o in outcomes:
            if o.refused:
                print(o.error, file=sys.stderr)
        return 3
    return 0 if all(o.success for o in outcomes) else 1


def cmd_withdraw(args: argparse.Namespace) -> int:
    """Withdraw a quarter from the warehouse (the `withdraw_period` job), then refresh the yearly assets."""
    import dagster as dg

    from ingest.discover import period_dir
    from pipeline.instance import instance_for_run
    from pipeline.jobs import ASSETS, YEARLY_SELECTION
    from pipeline.resources import build_resources
    from pipeline.runlog import details_to_log
    from pipeline.storage import warehouse_path
    from pipeline.withdraw import quarter_paths
    from pipeline.withdrawal import CLI_TAG, withdraw_period

    _, raw, warehouse = _settings(args)
    period = args.period.strip().upper()
    if not is_period_key(period):
        print(say("bad_period", period=args.period), file=sys.stderr)
        return 2
    root = Path(str(warehouse_path(warehouse)))
    stored = [] if "://" in warehouse or not root.is_dir() else quarter_paths(root, period)
    if not stored:
        key = "withdraw_local_only" if "://" in warehouse else "withdraw_nothing"
        print(say(key, period=period, warehouse=warehouse), file=sys.stderr)
        return 2
    resources = build_resources(str(raw), warehouse)
    tags = {CLI_TAG: "cli"}
    with details_to_log() as (_, log_path):
        instance = instance_for_run()
        job = dg.Definitions(jobs=[withdraw_period], resources=resources).resolve_job_def("withdraw_period")
        config = {"ops": {"withdraw_quarter": {"config": {"period": period}}}}
        result = job.execute_in_process(run_config=config, instance=instance, tags=tags, raise_on_error=False)
        yearly = None
        if result.success and any(root.glob("indicators/*.parquet")):
            yearly = dg.materialize(
                ASSETS,
                selection=YEARLY_SELECTION,
                instance=instance,
                resources=resources,
                tags=tags,
                raise_on_error=False,
            )
        instance.dispose()
    if not result.success:
        failures = [e.step_failure_data.error for e in result.all_events if e.is_step_failure]
        for error in failures:
            print(str(error.message if error else "failed").strip().splitlines()[-1], file=sys.stderr)
        if log_path is not None:
            print(say("run_log", path=log_path), file=sys.stderr)
        return 1
    record = root / "withdrawals.csv"
    print(say("withdrawn", period=period, files=len(stored), record=record))
    if period_dir(raw, period).exists():
        print(say("withdraw_folder_left", folder=period_dir(raw, period)), file=sys.stderr)
    if yearly is not None and not yearly.success:
        if log_path is not None:
            print(say("run_log", path=log_path), file=sys.stderr)
        return 1
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check files as the pipeline would and print every problem; only `--format xlsx` writes (marked copies)."""
    from ingest.check import check_files

    source, raw, _ = _settings(args)
    if not (raw / "reference" / "communes.csv").exists():
        print(say("no_reference", raw=raw), file=sys.stderr)
        return 2
    reference = _reference(raw)
    if reference is None:
        return 2
    paths = [Path(p) for p in args.files]
    for p in paths:
        if not p.exists():
            print(say("no_file", path=p), file=sys.stderr)
            return 2
    out = check_files(paths, reference, raw, args.period, source.read_workers, source.workbook_password)
    problems = out["rejected_rows"]
    if args.format == "json":
        payload = {"files": out["submission_log"].to_dicts(), "problems": problems.to_dicts()}
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        _print_problems(out["submission_log"], problems)
    if args.format == "xlsx":
        folder = Path(args.out) if args.out else Path.cwd()
        if folder.resolve().is_relative_to(raw.resolve()):
            print(say("marked_inside_raw", folder=folder, raw=raw), file=sys.stderr)
            return 2
        _write_marked(paths, raw, problems, folder)
    return 1 if problems.filter(pl.col("severity") == "error").height else 0


def _print_problems(log: pl.DataFrame, problems: pl.DataFrame) -> None:
    for row in log.iter_rows(named=True):
        mine = problems.filter(pl.col("source_file") == row["source_file"])
        errors = mine.filter(pl.col("severity") == "error").height
        print(
            say(
                "file_result",
                file=row["source_file"],
                status=row["status"],
                rows=row["rows_in"],
                rejected=row["rows_rejected"],
                errors=errors,
                warnings=mine.height - errors,
            )
        )
        for r in mine.iter_rows(named=True):
            tag = say("tag_error" if r["severity"] == "error" else "tag_warning")
            print(f"  [{tag}] {r['message_vi']}\n      {r['message_en']}")


def _write_marked(paths: list[Path], raw: Path, problems: pl.DataFrame, folder: Path) -> None:
    """For each file with a problem, `<name>.kiem-tra.xlsx` in `folder`: the workbook with its faulty cells marked
    (a list for CSV); a file without any problem gets nothing."""
    from forms.annotate import annotate_workbook, write_feedback
    from ingest.check import describe_file

    for path in paths:
        rel = describe_file(path, raw).rel
        mine = problems.filter(pl.col("source_file") == rel)
        if not mine.height:
            print(say("marked_nothing", file=path), file=sys.stderr)
            continue
        target = inside(folder, folder / marked_name(path))
        if path.is_file() and path.suffix.lower() in (".xlsx", ".xlsm"):
            annotate_workbook(path, mine, target)
        else:
            write_feedback(target, mine, f"Kết quả kiểm tra {path.name}")
        print(say("marked", path=target), file=sys.stderr)


def cmd_sample(args: argparse.Namespace) -> int:
    """Regenerate the sample district's submissions, or with `--province` the province sample."""
    if args.province:
        from sample.province import DEFAULT_RAW as PROVINCE_RAW
        from sample.province import write_province_sample

        raw = Path(args.raw).resolve() if args.raw else PROVINCE_RAW
        write_province_sample(raw, args.province)
        print(say("sample_written", raw=raw))
        return 0
    from sample.generate import write_sample

    _, raw, _ = _settings(args)
    write_sample(raw)
    if args.later:
        from sample.planted import write_later

        write_later(raw)
    print(say("sample_written", raw=raw))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """Print one cooperative's (or group's) quarters from the registry; exit 1 when nothing matches."""
    from pipeline.storage import read_table
    from registry.lookup import find_identities, render

    _, _, warehouse = _settings(args)
    try:
        registry = read_table(warehouse, "registry")
        history = read_table(warehouse, "registry_history")
    except FileNotFoundError:
        print(say("no_registry", warehouse=warehouse), file=sys.stderr)
        return 1
    found = find_identities(args.query, registry, history)
    if not found:
        print(say("history_not_found", query=args.query), file=sys.stderr)
        return 1
    print("\n\n".join(render(rid, registry, history) for rid in found))
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    """Regenerate the data dictionary and the rule catalogue from the schemas."""
    from pipeline.docs import write_docs

    for path in write_docs(Path(args.out)):
        print(f"wrote {path}")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    """Write a commune's fill-in workbook for a quarter, optionally prefilled with last quarter's units."""
    from forms.template import prefill_rows, write_template
    from pipeline.storage import read_table
    from schemas.fields import sheet_columns
    from schemas.periods import parse_period, previous_period
    from schemas.sheets import SHEETS

    _, raw, warehouse = _settings(args)
    if not (raw / "reference" / "communes.csv").is_file():
        print(say("no_reference", raw=raw), file=sys.stderr)
        return 2
    reference = _reference(raw)
    if reference is None:
        return 2
    period = parse_period(args.period)
    code = reference.resolve(args.commune, period) if period else None
    other = reference.units.elsewhere(args.commune, period) if period and code is None else None
    if other is not None:  # a unit of the list, but not one that reports in this quarter: no form for it
        print(
            say(
                "commune_not_in_period",
                name=other.name,
                code=other.code,
                period=period,
                csv=raw / "reference" / "communes.csv",
                valid_from=other.valid_from or "…",
                valid_to=other.valid_to or "…",
            ),
            file=sys.stderr,
        )
        return 2
    if code is None or period is None:
        print(say("unknown_commune_or_period", commune=args.commune, period=args.period), file=sys.stderr)
        return 2
    name = reference.name_of(code, period)
    htx: list[dict] = []
    tht: list[dict] = []
    if args.prefill:
        before = previous_period(period)
        try:
            htx = prefill_rows(
                read_table(warehouse, "cooperatives", [before]), code, sheet_columns(SHEETS["HTX"], period)
            )
            tht = prefill_rows(
                read_table(warehouse, "coop_groups", [before]), code, sheet_columns(SHEETS["THT"], period)
            )
        except FileNotFoundError:
            print(say("nothing_stored", period=before), file=sys.stderr)
    out = Path(args.out or f"{safe_stem(code)}-{period}.xlsx")
    unit = reference.units.unit(code, period)
    title = unit.title[:1].upper() + unit.title[1:] if unit else None
    recurs = unit is not None and reference.units.resolve(unit.name, period) != unit  # the name alone is ambiguous
    write_template(
        out, commune_name=name, period=period, htx=htx, tht=tht, title=title, commune_text=code if recurs else None
    )
    print(say("template_written", path=out, name=name, period=period, htx=len(htx), tht=len(tht)))
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """Record the officer's decision (pipeline/review_cli.py), then refresh its quarter as ``run`` does."""
    from pipeline.review_cli import record

    _, raw, warehouse = _settings(args)
    outcome = record(args, raw, warehouse)
    if isinstance(outcome, int):
        return outcome
    refresh = {"period": [outcome], "wait": args.wait, "no_report": args.no_report, "all": False}
    return cmd_run(argparse.Namespace(raw=str(raw), warehouse=warehouse, **refresh))


REPO = Path(__file__).resolve().parents[1]
UI_HOST_ENV = "KTTT_UI_HOST"
DEFAULT_UI_HOST = "127.0.0.1"
"""The Dagster UI has no login: it listens on this machine only unless told otherwise."""


def ui_command(host: str | None = None, port: int = 3000) -> tuple[list[str], dict[str, str]]:
    """The `dagster dev` command line and environment of `kttt ui`.

    The host is `host`, else `$KTTT_UI_HOST`, else 127.0.0.1 (always passed
    explicitly, never left to Dagster's default); `DAGSTER_HOME` defaults to the
    repository's `.dagster_home` (`pipeline.instance`, where `kttt run` records its runs too).
    """
    from pipeline.instance import dagster_home

    chosen = host or os.environ.get(UI_HOST_ENV) or DEFAULT_UI_HOST
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home())}
    argv = [sys.executable, "-m", "dagster", "dev", "-h", chosen, "-p", str(port), "-w", str(REPO / "workspace.yaml")]
    return argv, env


def cmd_ui(args: argparse.Namespace) -> int:
    """Start the Dagster UI and daemon (`dagster dev`) on 127.0.0.1 unless `--host` or `$KTTT_UI_HOST` says."""
    argv, env = ui_command(args.host, args.port)
    host = argv[argv.index("-h") + 1]
    print(say("ui_starting", host=host, port=args.port, home=env["DAGSTER_HOME"]), file=sys.stderr, flush=True)
    os.chdir(REPO)
    os.execve(argv[0], argv, env)
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    parser = argparse.ArgumentParser(prog="kttt", description="Collective-economy reporting pipeline.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="ingest, validate and store every submission (all quarters by default)")
    run.add_argument("--raw", help=f"raw directory (default ${RAW_ENV} or ./{DEFAULT_RAW})")
    run.add_argument("--warehouse", help=f"warehouse directory (default ${WAREHOUSE_ENV} or ./{DEFAULT_WAREHOUSE})")
    run.add_argument("--period", action="append", help="quarter to run, e.g. 2024-Q3 (repeatable)")
    run.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT,
        metavar="SECONDS",
        help=f"how long to wait for another run of the same quarter to finish (default {DEFAULT_WAIT:g}; 0: give up "
        "at once, exit 3)",
    )
    run.add_argument("--no-report", action="store_true", help="store every table but do not render the report")
    run.add_argument(
        "--all", action="store_true", help="list every file in the summary (default: only those with a problem)"
    )
    run.set_defaults(func=cmd_run)
    wd = sub.add_parser("withdraw", help="remove a quarter stored by mistake from the warehouse, and record it")
    wd.add_argument("--period", required=True, help="quarter to withdraw, e.g. 2024-Q3")
    wd.add_argument("--raw", help=f"raw directory (default ${RAW_ENV} or ./{DEFAULT_RAW})")
    wd.add_argument("--warehouse", help=f"warehouse directory (default ${WAREHOUSE_ENV} or ./{DEFAULT_WAREHOUSE})")
    wd.set_defaults(func=cmd_withdraw)
    val = sub.add_parser("validate", help="check submission files without writing anything")
    val.add_argument("files", nargs="+", help="workbooks or CSV folders")
    val.add_argument("--raw", help="raw directory whose reference/communes.csv lists the communes")
    val.add_argument("--period", help="quarter the files are for (default: their folder or TongHop sheet)")
    val.add_argument(
        "--format",
        choices=("text", "json", "xlsx"),
        default="text",
        help="text (default), json, or xlsx: also write each workbook with its faulty cells marked",
    )
    val.add_argument("--out", help="folder for the marked workbooks (default: the current folder; never inside --raw)")
    val.set_defaults(func=cmd_validate)
    smp = sub.add_parser("sample", help="regenerate the bundled sample district")
    smp.add_argument("--raw", help="raw directory to write into (default ./raw, or sample/ha-tinh with --province)")
    smp.add_argument(
        "--later", action="store_true", help="also write 2024-Q4, with planted changes for the cooperative registry"
    )
    smp.add_argument(
        "--province",
        nargs="?",
        const="Hà Tĩnh",
        help="the province sample instead: a province's real units before and after the 2025 reform (default "
        "Hà Tĩnh), 2025-Q2 and 2025-Q4",
    )
    smp.set_defaults(func=cmd_sample)
    tpl = sub.add_parser("template", help="write a commune's fill-in workbook (drop-down lists, number checks)")
    tpl.add_argument("--commune", required=True, help="commune code or name")
    tpl.add_argument("--period", required=True, help="quarter, e.g. 2025-Q1")
    tpl.add_argument("--prefill", action="store_true", help="fill in last quarter's cooperatives and groups")
    tpl.add_argument("--out", help="file to write (default <code>-<period>.xlsx)")
    tpl.add_argument("--raw", help="raw directory whose reference/communes.csv lists the communes")
    tpl.add_argument("--warehouse", help="warehouse to read last quarter from (with --prefill)")
    tpl.set_defaults(func=cmd_template)
    ui = sub.add_parser("ui", help="start the Dagster UI and daemon (dagster dev), on 127.0.0.1 by default")
    ui.add_argument("--host", help=f"address to listen on (default ${UI_HOST_ENV} or {DEFAULT_UI_HOST})")
    ui.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    ui.set_defaults(func=cmd_ui)
    his = sub.add_parser("history", help="print one cooperative's quarters from the registry (by tax code or name)")
    his.add_argument("query", metavar="TAX_CODE_OR_NAME", help="tax code (with or without branch suffix) or name")
    his.add_argument("--warehouse", help=f"warehouse directory (default ${WAREHOUSE_ENV} or ./{DEFAULT_WAREHOUSE})")
    his.set_defaults(func=cmd_history)
    docs = sub.add_parser(
        "docs", help="regenerate docs/data-dictionary.md, rules.md, figures.md and law.md from the schemas and registry"
    )
    docs.add_argument("--out", default="docs", help="folder to write into (default docs)")
    docs.set_defaults(func=cmd_docs)
    from pipeline.review_cli import add_review_parser

    add_review_parser(sub, cmd_review)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `kttt` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


def entry() -> None:
    """The `kttt` command (and `python -m pipeline.cli`): :func:`main`, then the exit, which skips walking what the
    command made (`pipeline.collector.leaving`)."""
    code = main()
    leaving()
    sys.exit(code)


if __name__ == "__main__":
    entry()
