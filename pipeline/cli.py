"""`kttt`: run the pipeline, check submission files, regenerate the sample district.

    kttt run [--raw DIR] [--warehouse DIR] [--period 2024-Q3 ...] [--wait SECONDS] [--no-report] [--all]
    kttt withdraw --period 2024-Q3 [--raw DIR] [--warehouse DIR]
    kttt validate FILE... [--raw DIR] [--period 2024-Q3] [--format text|json|xlsx] [--out DIR]
    kttt sample [--raw DIR] [--later]
    kttt history TAX_CODE_OR_NAME [--warehouse DIR]
    kttt docs [--out docs]
    kttt template --commune CODE --period 2025-Q1 [--prefill] [--out FILE]
    kttt ui [--host 127.0.0.1] [--port 3000]

`run` exits 0 whatever the submissions held (problems are in the warehouse); it
exits 1 only when the pipeline itself failed (including when the warehouse cannot be
written: disk full, read-only), 2 on a wrong argument, and 3 when another run of the
same period held the warehouse for longer than `--wait` seconds (nothing written).
`validate` exits 1 when a file has errors, so a clerk (or a script) knows the file
would lose rows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import polars as pl

from forms.paths import inside, marked_name, safe_stem
from pipeline.locks import DEFAULT_WAIT
from pipeline.resources import DEFAULT_RAW, DEFAULT_WAREHOUSE, RAW_ENV, WAREHOUSE_ENV
from schemas.messages import say
from schemas.periods import is_period_key


def _dir(value: str | None, env: str, default: str) -> Path:
    return Path(value or os.environ.get(env) or default).resolve()


def _location(value: str | None, env: str, default: str) -> str:
    """A folder made absolute, or an object-store URL (`s3://…`) kept as it is."""
    chosen = value or os.environ.get(env) or default
    return chosen if "://" in chosen else str(Path(chosen).resolve())


def _has_problem(row: dict) -> bool:
    return row["status"] != "accepted" or row["rows_rejected"] > 0 or row["warnings"] > 0


def _print_summary(warehouse: str, periods: list[str], show_all: bool = False, raw: Path | None = None) -> None:
    """Per quarter: communes submitted, files by status, then the files with a problem (every file with
    `show_all`), and the paths of `raw` that are not submissions; the full table is always in `submission_log`."""
    from ingest.discover import period_files, skip_reason
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
            _, skipped = period_files(raw, period)
            for path in skipped:
                print(f"  {say('skipped', path=path.relative_to(raw).as_posix())}: {skip_reason(path, raw)}")


def _reference_problem(raw: Path) -> str | None:
    """What makes the reference unusable (a scale-thresholds file that cannot be read), before anything is
    written; None when it loads."""
    from ingest.reference import load_reference
    from ingest.scale import ThresholdError

    try:
        load_reference(raw)
    except ThresholdError as exc:
        return str(exc)
    return None


def cmd_run(args: argparse.Namespace) -> int:
    """Materialize all assets for the chosen periods (default: every quarter folder)."""
    from ingest.progress import listening
    from pipeline.console import FileProgress
    from pipeline.resources import SubmissionSource
    from pipeline.runlog import details_to_log
    from pipeline.runner import run_periods

    raw = _dir(args.raw, RAW_ENV, DEFAULT_RAW)
    warehouse = _location(args.warehouse, WAREHOUSE_ENV, DEFAULT_WAREHOUSE)
    if not (raw / "reference" / "communes.csv").exists():
        print(say("no_reference", raw=raw), file=sys.stderr)
        return 2
    if (problem := _reference_problem(raw)) is not None:
        print(problem, file=sys.stderr)
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
    from pipeline.definitions import ASSETS, build_resources
    from pipeline.instance import instance_for_run
    from pipeline.jobs import YEARLY_SELECTION
    from pipeline.runlog import details_to_log
    from pipeline.storage import warehouse_path
    from pipeline.withdraw import quarter_paths
    from pipeline.withdrawal import CLI_TAG, withdraw_period

    raw = _dir(args.raw, RAW_ENV, DEFAULT_RAW)
    warehouse = _location(args.warehouse, WAREHOUSE_ENV, DEFAULT_WAREHOUSE)
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
    from ingest.reference import load_reference

    raw = _dir(args.raw, RAW_ENV, DEFAULT_RAW)
    if not (raw / "reference" / "communes.csv").exists():
        print(say("no_reference", raw=raw), file=sys.stderr)
        return 2
    if (problem := _reference_problem(raw)) is not None:
        print(problem, file=sys.stderr)
        return 2
    paths = [Path(p) for p in args.files]
    for p in paths:
        if not p.exists():
            print(say("no_file", path=p), file=sys.stderr)
            return 2
    out = check_files(paths, load_reference(raw), raw, args.period)
    problems = out["rejected_rows"]
    if args.format == "json":
        payload = {"files": out["submission_log"].to_dicts(), "problems": problems.to_dicts()}
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        _print_problems(out["submission_log"], problems)
    if args.format == "xlsx":
        _write_marked(paths, raw, problems, Path(args.out) if args.out else None)
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


def _write_marked(paths: list[Path], raw: Path, problems: pl.DataFrame, out_dir: Path | None) -> None:
    """For each file, `<name>.kiem-tra.xlsx`: the workbook with its faulty cells marked (a list for CSV)."""
    from forms.annotate import annotate_workbook, write_feedback
    from ingest.check import describe_file

    for path in paths:
        rel = describe_file(path, raw).rel
        mine = problems.filter(pl.col("source_file") == rel)
        folder = out_dir or path.parent
        target = inside(folder, folder / marked_name(path))
        if path.is_file() and path.suffix.lower() in (".xlsx", ".xlsm"):
            annotate_workbook(path, mine, target)
        else:
            write_feedback(target, mine, f"Kết quả kiểm tra {path.name}")
        print(say("marked", path=target), file=sys.stderr)


def cmd_sample(args: argparse.Namespace) -> int:
    """Regenerate the sample district's submissions."""
    from sample.generate import write_sample

    raw = _dir(args.raw, RAW_ENV, DEFAULT_RAW)
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

    warehouse = _location(args.warehouse, WAREHOUSE_ENV, DEFAULT_WAREHOUSE)
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
    from ingest.reference import load_reference
    from pipeline.storage import read_table
    from schemas.fields import sheet_columns
    from schemas.periods import parse_period, previous_period
    from schemas.sheets import SHEETS

    raw = _dir(args.raw, RAW_ENV, DEFAULT_RAW)
    reference = load_reference(raw)
    code = reference.resolve(args.commune)
    period = parse_period(args.period)
    if code is None or period is None:
        print(say("unknown_commune_or_period", commune=args.commune, period=args.period), file=sys.stderr)
        return 2
    name = reference.name_of(code)
    htx: list[dict] = []
    tht: list[dict] = []
    if args.prefill:
        warehouse = _location(args.warehouse, WAREHOUSE_ENV, DEFAULT_WAREHOUSE)
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
    write_template(out, commune_name=name, period=period, htx=htx, tht=tht)
    print(say("template_written", path=out, name=name, period=period, htx=len(htx), tht=len(tht)))
    return 0


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
    val.add_argument("--out", help="folder for the marked workbooks (default: beside each file)")
    val.set_defaults(func=cmd_validate)
    smp = sub.add_parser("sample", help="regenerate the bundled sample district")
    smp.add_argument("--raw", help="raw directory to write into")
    smp.add_argument(
        "--later", action="store_true", help="also write 2024-Q4, with planted changes for the cooperative registry"
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
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `kttt` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
