"""National benchmark: a whole country's quarter through kttt, against the I/O floor and the pandas way.

    sh scripts/uv run python benchmarks/national.py [--communes 3321] [--workdir DIR] [--repeat N] [--profile]

Generates one quarter for ``--communes`` communes with the project's generator
(:mod:`sample.national`: about 10 cooperatives and 20 groups per commune, and a
matching ``communes.csv``), then measures in this one process run:

- **floor**: every sheet of every workbook read with fastexcel and written as one
  Parquet file per sheet, nothing else (one process, as a script would);
- **pandas**: the same with pandas and openpyxl, what one writes by hand;
- **kttt**: ``kttt run --no-report`` as a subprocess (Dagster start-up included):
  every asset, validation, indicators and figures, but not the report's rendering.
  Its wall time, and its peak memory summed over its process tree: resident (RSS, sampled
  every 20 ms) and proportional (PSS, every 0.25 s: a page shared by processes counted once);
- **fixed**: the same command on a quarter of one commune, three times (the median
  CPU is kept): what kttt costs before (and around) the first file, whatever the size;
- **readers**: the reader processes a quarter of this size gets (`ingest.parallel`),
  started and each given two files, three times (the median CPU is kept): what those
  processes cost before their first file (their imports, their first queries), which the
  one-commune run, read in its own process, does not start.

Each gets its wall time and its CPU time (user + system; for kttt, its reader processes
included); the floor, pandas and kttt also the share of the machine's CPU time that the
hypervisor gave to other machines meanwhile (`steal` in ``/proc/stat``, where Linux tells it):
on a shared virtual machine, the measure of a busy hour. The per-file CPU of kttt is its CPU
less the fixed run's and the readers' start-up, per file, against the floor's CPU per file;
it is printed with the readers' start-up counted as well. ``--repeat N`` measures the floor,
the fixed run, the readers' start-up and kttt N times, one after another (pandas once): each
round's ratios are taken within the round, and the targets read their medians (peak memory:
the highest of the rounds), since a shared machine's speed drifts within minutes. It prints
each measurement, each target of `docs/performance.md` met or missed and, last, one line:
``ratio_vs_floor=X ratio_vs_pandas=Y peak_rss_mib=Z peak_pss_mib=W``. It exits non-zero when kttt
fails or stores a different number of rows than the floor read. ``--profile`` also
writes a pyinstrument profile of the kttt run (``kttt-profile.html`` in the workdir).

kttt records its runs in a Dagster home of the workdir's own (``dagster_home``, emptied
first), as a clone records them in its ``.dagster_home``; a first, unmeasured run on the
one-commune quarter creates that instance's databases (and fills Python's cache of compiled
modules), which a clone pays once.

Python normally caches compiled modules (``__pycache__``); where
``PYTHONDONTWRITEBYTECODE`` is set, every process compiles every module it imports
again, seconds per process. kttt runs here without that setting (as on a fresh clone),
and the unmeasured first run fills the cache.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import TypeVar

import fastexcel
import polars as pl
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.discover import period_files  # noqa: E402
from ingest.parallel import available_cores, read_files, worker_count  # noqa: E402
from sample.generate import TITLE_ROWS  # noqa: E402
from sample.national import COMMUNES_2025, PERIOD, write_national  # noqa: E402

SHEETS = ("HTX", "THT", "TongHop")
FIXED_RUNS = 3
"""One-commune runs measured for the fixed cost (the median is kept), and starts of the readers."""
T = TypeVar("T")


def workbooks(raw: Path) -> list[Path]:
    """The quarter's workbooks, sorted."""
    year, quarter = PERIOD.split("-")
    return sorted((raw / year / quarter).glob("*.xlsx"))


def floor(files: list[Path], out: Path) -> dict[str, int]:
    """fastexcel → one Parquet per sheet; returns rows per sheet."""
    frames: dict[str, list[pl.DataFrame]] = {s: [] for s in SHEETS}
    for path in files:
        reader = fastexcel.read_excel(path)
        for sheet in SHEETS:
            frames[sheet].append(reader.load_sheet(sheet, header_row=TITLE_ROWS, dtypes="string").to_polars())
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for sheet, parts in frames.items():
        table = pl.concat(parts, how="diagonal_relaxed")
        table.write_parquet(out / f"{sheet}.parquet")
        rows[sheet] = table.height
    return rows


def pandas_way(files: list[Path], out: Path) -> dict[str, int]:
    """pandas + openpyxl → one Parquet per sheet; returns rows per sheet."""
    import pandas as pd

    frames: dict[str, list[pd.DataFrame]] = {s: [] for s in SHEETS}
    for path in files:
        book = pd.read_excel(path, sheet_name=list(SHEETS), header=TITLE_ROWS, dtype=str, engine="openpyxl")
        for sheet in SHEETS:
            frames[sheet].append(book[sheet])
    out.mkdir(parents=True, exist_ok=True)
    rows = {}
    for sheet, parts in frames.items():
        table = pd.concat(parts, ignore_index=True)
        table.to_parquet(out / f"{sheet}.parquet", index=False)
        rows[sheet] = len(table)
    return rows


RSS_EVERY = 0.02
PSS_EVERY = 0.25
"""How often `TreeMemory` samples (seconds); the peak of a large quarter lasts seconds, while the readers work."""


class TreeMemory:
    """Peak memory of a process and its descendants, sampled in a thread: resident memory summed (RSS, every
    :data:`RSS_EVERY` seconds) and proportional memory summed (PSS, every :data:`PSS_EVERY` seconds).

    RSS counts in every process the pages it shares with others: the shared libraries that kttt's main process
    and each reader map (polars alone about 57 MiB, Arrow about 30), counted once per process. PSS splits a shared
    page among the processes that map it, so the sum counts each page once: the memory the tree holds. How much
    of a library's file the kernel maps into each process varies with the machine's state: for the same code and
    files, the RSS sum went from about 850 to about 695 MiB within an hour on one machine, while the PSS sum of
    the runs measured stayed within 521 to 571 MiB. PSS is read from
    ``/proc/<pid>/smaps_rollup`` (about 6 ms for kttt's main process), so it is sampled less often (with RSS from
    the same reading).

    A child between `fork` and `exec` is left out: it shares its parent's memory, and the
    system shows it the parent's resident size (Dagster starts `tail` for its compute logs at
    each run; a sample taken in that instant counted kttt's main process twice, 830 to 920 MiB
    instead of about 750). kttt starts its readers with `spawn`, which execs a new interpreter.
    """

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _processes(self) -> list[psutil.Process]:
        """The tree's processes, without children not yet exec'd (empty once the root has ended)."""
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        out, commands = [], {}
        for p in procs:
            try:
                commands[p.pid] = p.cmdline()
                if p is not self.root and commands[p.pid] == commands.get(p.ppid()):
                    continue  # forked, not yet exec'd: the parent's memory
            except psutil.Error:
                continue
            out.append(p)
        return out

    def _run(self) -> None:
        next_pss = 0.0
        while not self._stop.is_set():
            procs = self._processes()
            if not procs:
                return
            if time.perf_counter() >= next_pss:
                # Both from one walk of each process's pages, so that the sum of PSS never exceeds that of RSS.
                rollups = [_rollup(p.pid) for p in procs]
                self.peak = max(self.peak, sum(rss for rss, _ in rollups))
                self.peak_pss = max(self.peak_pss, sum(pss for _, pss in rollups))
                next_pss = time.perf_counter() + PSS_EVERY
            else:
                self.peak = max(self.peak, _summed_rss(procs))
            time.sleep(RSS_EVERY)

    def stop(self) -> tuple[int, int]:
        """Stop sampling; the peaks in bytes: (RSS summed, PSS summed)."""
        self._stop.set()
        self._thread.join()
        return self.peak, self.peak_pss


def _summed_rss(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def _rollup(pid: int) -> tuple[int, int]:
    """A process's resident and proportional memory in bytes (``Rss`` and ``Pss`` of
    ``/proc/<pid>/smaps_rollup``), or zeros when it has ended or the system does not tell."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0, 0
    kib = {line.split(":")[0]: int(line.split()[1]) for line in lines if line.startswith(("Rss:", "Pss:"))}
    return kib.get("Rss", 0) * 1024, kib.get("Pss", 0) * 1024


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """User + system CPU seconds of this process (all its threads), or of its waited-for children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def stolen_seconds() -> float | None:
    """CPU seconds the hypervisor has given other machines since boot, all cores together (`steal` in
    ``/proc/stat``), or None where that is not known: on a shared virtual machine it tells a busy hour."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Steal:
    """The share of the machine's CPU time stolen by the hypervisor from now until `share` is asked."""

    def __init__(self) -> None:
        self.start, self.wall = stolen_seconds(), time.perf_counter()

    def share(self) -> str:
        """``steal N %`` of the cores' time since this was made, or nothing where it is not known."""
        end, seconds = stolen_seconds(), time.perf_counter() - self.wall
        if self.start is None or end is None or seconds <= 0:
            return ""
        return f"  steal {100 * (end - self.start) / (seconds * available_cores()):.0f} %"


def kttt(
    raw: Path, warehouse: Path, profile: Path | None, home: Path
) -> tuple[float, float, tuple[int, int], subprocess.CompletedProcess[str]]:
    """``kttt run --no-report`` in a subprocess, recording its run in the Dagster instance at `home`: wall
    seconds, CPU seconds (its reader processes included), peak RSS and PSS bytes of its tree (`TreeMemory`), the
    process."""
    cli = [sys.executable, "-m", "pipeline.cli", "run", "--raw", str(raw), "--warehouse", str(warehouse), "--no-report"]
    if profile is not None:
        cli = [sys.executable, "-m", "pyinstrument", "--renderer", "html", "--outfile", str(profile), "-m", *cli[2:]]
    # Compiled modules cached, as Python does by default.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"DAGSTER_HOME": str(home)}
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cli, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(proc.pid)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu
    peaks = memory.stop()
    return seconds, cpu, peaks, subprocess.CompletedProcess(cli, proc.returncode, out, err)


def readers_start(raw: Path) -> tuple[int, float]:
    """The reader processes kttt starts for the quarter at `raw` (none when it reads in its own process) and the
    CPU they take to start and read two files each: the median of :data:`FIXED_RUNS` starts (seconds)."""
    files, _ = period_files(raw, PERIOD)
    workers = worker_count(len(files))
    if workers <= 1:
        return 0, 0.0
    runs = []
    for _ in range(FIXED_RUNS):
        cpu = cpu_seconds(resource.RUSAGE_CHILDREN)
        read_files(files[: 2 * workers], workers)
        runs.append(cpu_seconds(resource.RUSAGE_CHILDREN) - cpu)
    return workers, median(runs)


def timed(label: str, fn: Callable[..., T], *args: object) -> tuple[float, float, T]:
    """Run ``fn`` after a garbage collection; print and return (wall seconds, CPU seconds, result)."""
    gc.collect()
    cpu = cpu_seconds()
    steal = Steal()
    start = time.perf_counter()
    result = fn(*args)
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu
    print(f"{label:<10} {seconds:8.2f} s  cpu {cpu:8.2f} s  {result}{steal.share()}", flush=True)
    return seconds, cpu, result


def target(name: str, value: str, met: bool | None) -> None:
    """One line: a target of docs/performance.md, the value measured, met or missed."""
    verdict = "n/a" if met is None else ("met" if met else "MISSED")
    print(f"target     {name:<52} {value:<22} {verdict}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--communes", type=int, default=COMMUNES_2025, help=f"communes (default {COMMUNES_2025})")
    parser.add_argument("--workdir", type=Path, help="keep raw files and outputs here (reused when present)")
    parser.add_argument("--skip-pandas", action="store_true", help="leave out the (slow) pandas measurement")
    parser.add_argument("--profile", action="store_true", help="profile the (first) kttt run with pyinstrument")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of the floor, the fixed run and kttt, one after another; the medians are read (default 1)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    work = args.workdir or Path(tempfile.mkdtemp(prefix="kttt-national-"))
    raw = work / f"raw-{args.communes}"
    print(f"communes={args.communes} cores={available_cores()} workdir={work}", flush=True)
    if not workbooks(raw) or len(workbooks(raw)) != args.communes:
        shutil.rmtree(raw, ignore_errors=True)
        timed("generate", lambda: f"{len(write_national(raw, args.communes, workers=available_cores()))} workbooks")
    files = workbooks(raw)
    size = sum(p.stat().st_size for p in files)
    print(f"input      {len(files)} workbooks, {size / 2**20:.1f} MiB", flush=True)

    floor_s, floor_cpu, floor_rows = timed("floor", floor, files, work / "floor")
    pandas_s = pandas_cpu = None
    if not args.skip_pandas:
        pandas_s, pandas_cpu, _ = timed("pandas", pandas_way, files, work / "pandas")

    one = work / "raw-1"
    if len(workbooks(one)) != 1:
        shutil.rmtree(one, ignore_errors=True)
        write_national(one, 1)
    # kttt records its runs, as on a fresh clone (its empty `.dagster_home`), here in a Dagster home of its own.
    home = work / "dagster_home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    shutil.copy(ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    # A first run creates the instance's databases and fills the compiled-module cache: paid once, not measured.
    shutil.rmtree(work / "warehouse-1", ignore_errors=True)
    warm_s, _, _, _ = kttt(one, work / "warehouse-1", None, home)
    print(f"{'warm-up':<10} {warm_s:8.2f} s  (kttt on one commune, not counted)", flush=True)

    rounds: list[Round] = []
    for number in range(args.repeat):
        if number:  # the floor again beside each round's kttt: the machine's speed drifts within minutes
            floor_s, floor_cpu, _ = timed("floor", floor, files, work / "floor")
        measured = kttt_round(raw, work, home, args.profile and not number)
        if measured is None:
            return 1
        rounds.append(Round(floor_s, floor_cpu, *measured, files=len(files)))
        warehouse = work / "warehouse"
        stored = {
            "HTX": pl.scan_parquet(warehouse / "cooperatives").select(pl.len()).collect().item(),
            "THT": pl.scan_parquet(warehouse / "coop_groups").select(pl.len()).collect().item(),
            "TongHop": pl.scan_parquet(warehouse / "commune_summaries").select(pl.len()).collect().item(),
        }
        print(f"rows       floor {floor_rows}  kttt {stored}", flush=True)
        if stored != floor_rows:
            print("kttt stored a different number of rows than the floor read", file=sys.stderr)
            return 1
        last = rounds[-1]
        print(
            f"per file   kttt {last.per_file * 1000:.2f} ms cpu  floor {last.floor_per_file * 1000:.2f} ms cpu  "
            f"ratio {last.ratio_cpu:.2f}  (kttt's cpu less the fixed run's and the readers' start-up, per file; "
            f"with the start-up counted: {last.per_file_started * 1000:.2f} ms, ratio {last.ratio_cpu_started:.2f})",
            flush=True,
        )
    if args.profile:
        print(f"profile    {work / 'kttt-profile.html'}")
    if len(rounds) > 1:
        print(f"rounds     {len(rounds)}: the medians below (per-file and wall ratios taken in each round)")
    ratio_cpu = median(r.ratio_cpu for r in rounds)
    ratio_cpu_started = median(r.ratio_cpu_started for r in rounds)
    kttt_s = median(r.kttt_s for r in rounds)
    kttt_cpu = median(r.kttt_cpu for r in rounds)
    fixed_s, fixed_cpu = median(r.fixed_s for r in rounds), median(r.fixed_cpu for r in rounds)
    ratio_floor = median(r.kttt_s / r.floor_s for r in rounds)
    peak, peak_pss = max(r.peak for r in rounds), max(r.peak_pss for r in rounds)
    target("per-file CPU <= 3 x floor", f"{ratio_cpu:.2f} x", ratio_cpu <= 3)
    target("per-file CPU, readers' start-up counted (reported)", f"{ratio_cpu_started:.2f} x", None)
    if pandas_s is not None and pandas_cpu is not None:
        target(
            "faster than pandas >= 2 x (wall; set at 1,000 communes)",
            f"{pandas_s / kttt_s:.2f} x",
            pandas_s / kttt_s >= 2,
        )
        target(
            "CPU below pandas' (set at 1,000 communes)",
            f"{kttt_cpu:.1f} s vs {pandas_cpu:.1f} s",
            kttt_cpu < pandas_cpu,
        )
        target(
            "faster than pandas >= 5 x (wall; set at 3,321 communes)",
            f"{pandas_s / kttt_s:.2f} x",
            pandas_s / kttt_s >= 5,
        )
    else:
        target("faster than pandas (skipped)", "-", None)
    target("wall <= 3 x floor (set at 3,321 communes)", f"{ratio_floor:.2f} x", ratio_floor <= 3)
    target("peak RSS < 768 MiB (set at 3,321 communes)", f"{peak / 2**20:.0f} MiB", peak < 768 * 2**20)
    target("peak PSS, shared pages counted once (reported)", f"{peak_pss / 2**20:.0f} MiB", None)
    target("fixed cost before the first file (reported)", f"{fixed_s:.2f} s, cpu {fixed_cpu:.2f} s", None)
    readers_cpu = median(r.readers_cpu for r in rounds)
    target("readers' start-up (reported)", f"cpu {readers_cpu:.2f} s", None)
    ratio_pandas = f"{kttt_s / pandas_s:.3f}" if pandas_s else "nan"
    mib = f"peak_rss_mib={peak / 2**20:.0f} peak_pss_mib={peak_pss / 2**20:.0f}"
    print(f"ratio_vs_floor={ratio_floor:.2f} ratio_vs_pandas={ratio_pandas} {mib}")
    return 0


@dataclass(frozen=True)
class Round:
    """One round's measurements: the floor, the fixed run (median of :data:`FIXED_RUNS`) and kttt."""

    floor_s: float
    floor_cpu: float
    fixed_s: float
    fixed_cpu: float
    readers_cpu: float
    kttt_s: float
    kttt_cpu: float
    peak: int
    peak_pss: int
    files: int

    @property
    def per_file(self) -> float:
        """kttt's CPU less the fixed run's and the readers' start-up, per file."""
        return max(self.kttt_cpu - self.fixed_cpu - self.readers_cpu, 0.0) / self.files

    @property
    def per_file_started(self) -> float:
        """kttt's CPU less the fixed run's only, per file: the readers' start-up counted."""
        return max(self.kttt_cpu - self.fixed_cpu, 0.0) / self.files

    @property
    def floor_per_file(self) -> float:
        return self.floor_cpu / self.files

    @property
    def ratio_cpu(self) -> float:
        return self.per_file / self.floor_per_file

    @property
    def ratio_cpu_started(self) -> float:
        return self.per_file_started / self.floor_per_file


def kttt_round(
    raw: Path, work: Path, home: Path, profile: bool
) -> tuple[float, float, float, float, float, int, int] | None:
    """The fixed run (:data:`FIXED_RUNS` times, the median CPU kept), the readers' start-up (as many times) and kttt
    on the whole quarter, each line printed: (fixed wall, fixed CPU, readers' CPU, kttt wall, kttt CPU, peak RSS,
    peak PSS), or None when kttt failed."""
    one = work / "raw-1"
    # The fixed cost is subtracted from kttt's CPU for the per-file figure: the median of three runs, since one
    # run varies by a second on a shared machine (as much as a thousand files' difference at 300 communes).
    fixed_runs = []
    for _ in range(FIXED_RUNS):
        shutil.rmtree(work / "warehouse-1", ignore_errors=True)
        fixed_s, fixed_cpu, _, fixed_proc = kttt(one, work / "warehouse-1", None, home)
        if fixed_proc.returncode != 0:
            print(fixed_proc.stderr[-4000:], file=sys.stderr)
            return None
        fixed_runs.append((fixed_cpu, fixed_s))
    fixed_cpu, fixed_s = sorted(fixed_runs)[len(fixed_runs) // 2]
    runs = ", ".join(f"{c:.2f}" for c, _ in fixed_runs)
    print(f"{'fixed':<10} {fixed_s:8.2f} s  cpu {fixed_cpu:8.2f} s  (kttt on one commune; median cpu of {runs})")
    workers, readers_cpu = readers_start(raw)
    print(f"{'readers':<10} {'':10}  cpu {readers_cpu:8.2f} s  ({workers} reader processes started, two files each)")

    warehouse = work / "warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    steal = Steal()
    profile_to = work / "kttt-profile.html" if profile else None
    kttt_s, kttt_cpu, (peak, peak_pss), proc = kttt(raw, warehouse, profile_to, home)
    print(
        f"{'kttt':<10} {kttt_s:8.2f} s  cpu {kttt_cpu:8.2f} s  exit={proc.returncode} peak_rss={peak / 2**20:.0f} MiB"
        f" peak_pss={peak_pss / 2**20:.0f} MiB"
        f"{steal.share()}",
        flush=True,
    )
    if proc.returncode != 0:
        print(proc.stderr[-4000:], file=sys.stderr)
        return None
    return fixed_s, fixed_cpu, readers_cpu, kttt_s, kttt_cpu, peak, peak_pss


if __name__ == "__main__":
    sys.exit(main())
