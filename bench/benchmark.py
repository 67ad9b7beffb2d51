#!/usr/bin/env python
"""Task-completion benchmark: how long one agency-report step takes through the service, at 28 to 2,800 agencies.

    python bench/benchmark.py                       # sizes 28,280,2800 on SQLite and PostgreSQL, 3 runs each
    python bench/benchmark.py --quick               # sizes 28,280, one run each: about a minute
    python bench/benchmark.py --databases sqlite --sizes 28,2800 --repeat 5 --json out.json

The headline comes first: bench/request_cost.py, what a request really costs (each completion in a new session with
its user loaded by id, as the API does; SQL statements per completion; p50/p95) and every province-wide click (open
the year, consolidation, evaluation, the reviews, the decision), at the same sizes and databases.
The simulation-based figures below it are the older measure (one long-lived session).

Each measurement runs in a fresh subprocess against a fresh, empty database (SQLite: a temporary file with the app's
pragmas; PostgreSQL: every table dropped and recreated in the bench database). It first simulates a warm-up cycle
(YEAR-2, 28 agencies) so code paths, caches and statement caches are warm, then times `demo.simulate(YEAR, size)` and
keeps the completions of `draft_report`, `approve_report` and `review_report`: one task completion through the
service (load the task and instance, run the engine, save state and task rows, commit).

The engine floors are measured in-process on the agency_report spec compiled from bpmn/: raw SpiffWorkflow in
memory, then the same plus a JSON save and reload of the instance state (Run.dumps / Run.load), and for comparison
the full BpmnWorkflowSerializer round trip (spec included). See bench/README.md for what each figure means.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

REPORT_STEPS = ("draft_report", "approve_report", "review_report")
DEFAULT_SIZES = (28, 280, 2800)
QUICK_SIZES = (28, 280)
DEFAULT_DATABASES = ("sqlite", "postgresql")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench"
PROTECTED_DATABASES = {"test", "postgres", "template0", "template1"}  # tests use `test`; never drop tables there
DEFAULT_YEAR = 2025  # 15/12/2025 and 15/12/2023 are working days (see _check_year)
WARMUP_AGENCIES = 28
FLAT_RATIO = 1.3
SQLITE_P50_MS = 5.0
FLOOR_RATIO = 10.0
BASELINE_SIZE = 28
OTHERS_WARNING = 0.25  # CPUs used by other processes during a run above which the report warns


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- statistics ----------------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default); Q in 0..100."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000.0 for s in seconds]
    if not ms:
        return {"count": 0}
    return {
        "count": len(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms),
        "min_ms": min(ms),
        "max_ms": max(ms),
    }


def deciles_p50(seconds: list[float]) -> list[float]:
    """p50 (ms) of each tenth of the completions in the order they happened: a trend shows growth within a cycle."""
    n = len(seconds)
    if n < 10:
        return []
    return [percentile([s * 1000.0 for s in seconds[n * i // 10: n * (i + 1) // 10]], 50) for i in range(10)]


# --- database set-up (in the worker) ------------------------------------------------------------------------------


def _app_engine_options() -> tuple[dict[str, Any], str]:
    """The engine options the app passes to SQLAlchemy (config.Config.SQLALCHEMY_ENGINE_OPTIONS)."""
    try:
        import config  # noqa: PLC0415 - the repository's config.py

        return dict(getattr(config.Config, "SQLALCHEMY_ENGINE_OPTIONS", {}) or {}), "config.Config"
    except Exception as exc:  # noqa: BLE001 - a benchmark must still run if config.py changes shape
        return {}, f"none ({type(exc).__name__}: {exc})"


def _app_sqlite_pragmas() -> tuple[Any, str]:
    """The app's own connect hook for SQLite if it has one; else WAL, synchronous=NORMAL, foreign_keys=ON."""
    try:
        from workflows.connections import sqlite_pragmas  # noqa: PLC0415

        return sqlite_pragmas, "workflows/connections.py:sqlite_pragmas"
    except (ImportError, AttributeError):
        def _bench_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        return _bench_pragmas, "bench default, the app sets none: journal_mode=WAL, synchronous=NORMAL, foreign_keys=ON"


def _fresh_database(spec: dict[str, Any]) -> tuple[Any, dict[str, Any], Any]:
    from sqlalchemy import MetaData, create_engine, event, text  # noqa: PLC0415

    from workflows.models import Base  # noqa: PLC0415

    options, options_source = _app_engine_options()
    info: dict[str, Any] = {"engine_options": {k: repr(v) for k, v in options.items()},
                            "engine_options_source": options_source}
    if spec["database"] == "sqlite":
        directory = tempfile.mkdtemp(prefix="bench-sqlite-")
        path = os.path.join(directory, "bench.sqlite")
        engine = create_engine(f"sqlite:///{path}", **options)
        hook, source = _app_sqlite_pragmas()
        event.listen(engine, "connect", hook)
        Base.metadata.create_all(engine)
        with engine.connect() as conn:
            info["pragmas"] = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                               for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "cache_size")}
            info["sqlite_version"] = conn.exec_driver_sql("select sqlite_version()").scalar()
        info["pragmas_source"] = source
        info["file"] = path

        def cleanup() -> dict[str, Any]:
            sizes = {name: os.path.getsize(os.path.join(directory, name)) for name in os.listdir(directory)}
            engine.dispose()
            shutil.rmtree(directory, ignore_errors=True)
            return {"file_bytes": sizes}

        return engine, info, cleanup
    url = spec["postgres_url"]
    _refuse_protected(url)
    engine = create_engine(url, **options)
    from workflows import connections  # noqa: PLC0415

    connections.configure(engine)  # as the app's engine: read-only transactions end with COMMIT
    try:
        Base.metadata.drop_all(engine)
        info["dropped_with"] = "Base.metadata.drop_all"
    except Exception as exc:  # noqa: BLE001 - tables left by an older schema (the models change under us)
        log(f"  Base.metadata.drop_all failed ({type(exc).__name__}); dropping the reflected tables instead")
        existing = MetaData()
        existing.reflect(engine)
        existing.drop_all(engine)
        info["dropped_with"] = "reflected MetaData.drop_all (Base.metadata.drop_all failed: schema changed)"
    Base.metadata.create_all(engine)
    with engine.connect() as conn:
        info["server_version"] = conn.exec_driver_sql("show server_version").scalar()
        info["driver"] = engine.dialect.driver
        info["database"] = engine.url.database

    def cleanup() -> dict[str, Any]:
        with engine.connect() as conn:
            size = conn.execute(text("select pg_database_size(current_database())")).scalar()
        engine.dispose()
        return {"database_bytes": size}

    return engine, info, cleanup


def _refuse_protected(url: str) -> None:
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    name = make_url(url).database or ""
    if name in PROTECTED_DATABASES or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise SystemExit(f"refusing to use database '{name}': the benchmark drops every table in it "
                         f"(protected: {', '.join(sorted(PROTECTED_DATABASES))})")


def ensure_postgres_database(url: str) -> str:
    """Create the bench database if it does not exist (via the `postgres` database, autocommit)."""
    from sqlalchemy import create_engine, text  # noqa: PLC0415
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    _refuse_protected(url)
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("select 1 from pg_database where datname = :n"), {"n": target.database}).scalar()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
                return "created"
            return "exists"
    finally:
        admin.dispose()


# --- worker: one cycle --------------------------------------------------------------------------------------------


class _GcRecorder:
    """Counts collections and their pause time per generation while installed (diagnostic only)."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            generation = info.get("generation", 0)
            self.count[generation] += 1
            self.seconds[generation] += time.perf_counter() - self._began


def _cpu_snapshot(our_pg_database: str | None) -> tuple[float, float] | None:
    """(CPU seconds the whole machine was busy, CPU seconds of PostgreSQL processes working for us) from /proc.

    PostgreSQL's background processes count as ours; its client backends count as ours only when they serve
    OUR_PG_DATABASE (the tests' backends on `test` belong to someone else).
    """
    try:
        tick = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:9]]
        busy = (sum(values) - values[3] - values[4]) / tick
        ours = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as source:
                    data = source.read()
                if not data[data.index("(") + 1:data.rindex(")")].startswith("postgres"):
                    continue
                with open(f"/proc/{pid}/cmdline", "rb") as source:
                    command = source.read().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, ValueError):
                continue
            client = "(" in command or "[local]" in command
            if client and (our_pg_database is None or f" {our_pg_database} " not in command):
                continue
            fields = data[data.rindex(")") + 2:].split()
            ours += int(fields[11]) + int(fields[12])  # utime, stime
        return busy, ours / tick
    except (OSError, ValueError):
        return None


def _heartbeat(label: str, stop: threading.Event, main_thread_id: int) -> None:
    """Every 20 s say how far the cycle is; reads `result.timings` of the running simulate() frame, touching nothing."""
    began = time.perf_counter()
    while not stop.wait(20.0):
        done = "?"
        frame = sys._current_frames().get(main_thread_id)
        while frame is not None:
            if frame.f_code.co_name == "simulate" and "result" in frame.f_locals:
                done = str(len(frame.f_locals["result"].timings))
                break
            frame = frame.f_back
        log(f"  {label}: {time.perf_counter() - began:.0f} s, {done} completions so far")


def worker_cycle(spec: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy.orm import Session  # noqa: PLC0415

    from workflows import demo, tasks  # noqa: PLC0415

    engine, info, cleanup = _fresh_database(spec)
    label = f"{spec['database']} {spec['size']} run {spec['run'] + 1}"
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(label, stop, threading.get_ident()), daemon=True)
    beat.start()
    try:
        with Session(engine, expire_on_commit=spec["expire_on_commit"]) as session:
            began = time.perf_counter()
            warm = demo.simulate(session, spec["year"] - 2, spec["warmup_agencies"], spec["seed"])
            warm_seconds = time.perf_counter() - began
            gc.collect()  # the warm-up's garbage is not the measured cycle's
            recorder = _GcRecorder()
            load_before = os.getloadavg()
            our_db = spec["database"] == "postgresql" and info.get("database") or None
            machine_before = _cpu_snapshot(our_db)
            # CPU time of each completion on this thread, beside simulate()'s wall time: on a shared machine it
            # shows what the completion cost apart from waiting for a CPU (on PostgreSQL the server's part is not in
            # it). The wrapper adds two clock reads (about a microsecond) to each timed completion.
            completion_cpu: list[float] = []
            service = tasks.complete_task

            def cpu_timed(*args: Any, **kwargs: Any) -> Any:
                began = time.thread_time()
                try:
                    return service(*args, **kwargs)
                finally:
                    completion_cpu.append(time.thread_time() - began)

            cpu_began = time.process_time()
            gc.callbacks.append(recorder)
            tasks.complete_task = cpu_timed
            try:
                result = demo.simulate(session, spec["year"], spec["size"], spec["seed"])
            finally:
                tasks.complete_task = service
                gc.callbacks.remove(recorder)
            cpu_seconds = time.process_time() - cpu_began
            machine_after = _cpu_snapshot(our_db)
            load_after = os.getloadavg()
    finally:
        stop.set()
    report = [seconds for step, seconds in result.timings if step in REPORT_STEPS]
    report_cpu = ([cpu for (step, _), cpu in zip(result.timings, completion_cpu, strict=True) if step in REPORT_STEPS]
                  if len(completion_cpu) == len(result.timings) else [])
    warm_report = [seconds for step, seconds in warm.timings if step in REPORT_STEPS]
    out = {
        "database": spec["database"],
        "size": spec["size"],
        "run": spec["run"],
        "units": result.units,
        "completion": summary_ms(report),
        "completion_cpu": summary_ms(report_cpu),
        "per_step": {step: summary_ms([s for st, s in result.timings if st == step]) for step in REPORT_STEPS},
        "deciles_p50_ms": deciles_p50(report),
        "cycle_seconds": result.cycle_seconds,
        "open_seconds": result.open_seconds,
        "other_steps_ms": [(step, seconds * 1000.0) for step, seconds in result.timings if step not in REPORT_STEPS],
        "warmup": {"year": spec["year"] - 2, "agencies": spec["warmup_agencies"], "cycle_seconds": warm_seconds,
                   "completion": summary_ms(warm_report)},
        "gc_during_cycle": {"collections": recorder.count, "pause_seconds": recorder.seconds},
        # This process's CPU time over the cycle's wall time: well under 1 on SQLite means it waited for the disk
        # or for a CPU that something else was using (see the load averages); on PostgreSQL the server's work is
        # in another process, so it is lower anyway.
        "cpu_seconds": cpu_seconds,
        "cpu_share": cpu_seconds / result.cycle_seconds if result.cycle_seconds else None,
        "loadavg_1min_before_after": [load_before[0], load_after[0]],
        # Average number of CPUs that other processes kept busy during the measured cycle (2 CPUs here).
        "other_cpus": (max(0.0, (machine_after[0] - machine_before[0]) - cpu_seconds
                           - (machine_after[1] - machine_before[1])) / result.cycle_seconds
                       if machine_before and machine_after and result.cycle_seconds else None),
        "postgres_cpu_seconds": (machine_after[1] - machine_before[1]
                                 if machine_before and machine_after and our_db else None),
        "report_ms": [seconds * 1000.0 for seconds in report],
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "db": info,
    }
    out["db"].update(cleanup())
    return out


# --- worker: engine floors ----------------------------------------------------------------------------------------


def worker_floors(spec: dict[str, Any]) -> dict[str, Any]:
    from uuid import UUID  # noqa: PLC0415

    from SpiffWorkflow.util.task import TaskState  # noqa: PLC0415

    from workflows import engine  # noqa: PLC0415

    files = {p.name: p.read_bytes() for p in sorted((REPO / "bpmn").iterdir()) if p.suffix in (".bpmn", ".dmn")}
    spec_json = engine.compile_files(files)["agency_report"].spec_json
    start_data = {"year": spec["year"], "unit_code": "VPUB", "unit_name": "Văn phòng UBND tỉnh",
                  "report_due": f"{spec['year']}-12-15"}
    first = engine.Run.start(spec_json, start_data)
    first.advance()
    (draft,) = first.ready_user_tasks()
    assert draft.step_id == "draft_report", draft.step_id
    state = first.dumps()
    # Private handles, for this benchmark only: the raw BpmnWorkflow behind a Run, and the engine's configured
    # full serializer (the app never stores the spec per instance).
    serializer = engine.serializer.serializer
    full_state = serializer.serialize_json(first._wf)
    uuid = UUID(draft.uuid)
    # What the service hands the engine for draft_report: the validated form fields plus the step handler's result.
    payload = {"it_staff_count": 2, "edoc_sent_pct": 90, "edoc_received_pct": 85,
               "difficulties": "Thiếu kinh phí nâng cấp hạ tầng.", "self_assessed_violations": []}
    now = datetime(spec["year"], 11, 3, 2, tzinfo=UTC)

    def complete_raw(wf: Any) -> None:
        task = wf.get_task_from_id(uuid)
        task.data.update(payload)
        task.run()
        wf.do_engine_steps()

    def check(wf: Any) -> None:
        ready = [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY, manual=True)]
        assert ready == ["approve_report"], ready

    def measure(name: str, setup: Any, action: Any, iterations: int) -> dict[str, Any]:
        gc.collect()
        times = []
        for i in range(iterations + 5):
            prepared = setup()
            began = time.perf_counter()
            final = action(prepared)
            elapsed = time.perf_counter() - began
            if i == 0 and final is not None:
                check(final)
            if i >= 5:
                times.append(elapsed)
        log(f"  floor {name}: p50 {percentile(times, 50) * 1000:.3f} ms")
        return summary_ms(times)

    n = spec["iterations"]

    def in_memory(run: Any) -> Any:
        complete_raw(run._wf)
        return run._wf

    def save_and_reload(_: Any) -> Any:
        run = engine.Run.load(spec_json, state)
        complete_raw(run._wf)
        run.dumps()
        return run._wf

    def full_round_trip(_: Any) -> Any:
        wf = serializer.deserialize_json(full_state)
        wf.script_engine = engine.sandbox.script_engine  # not serialised
        complete_raw(wf)
        serializer.serialize_json(wf)
        return wf

    def app_wrapper(_: Any) -> Any:
        run = engine.Run.load(spec_json, state)
        run.complete(draft.uuid, payload)
        run.advance(now=now)
        run.dumps()
        return run._wf

    loaded = engine.Run.load(spec_json, state)
    figures = {
        "in_memory": measure("in_memory", lambda: engine.Run.load(spec_json, state), in_memory, n),
        "save_and_reload": measure("save_and_reload", lambda: None, save_and_reload, n),
        "full_serializer_round_trip": measure("full_serializer_round_trip", lambda: None, full_round_trip, n),
        "app_wrapper": measure("app_wrapper", lambda: None, app_wrapper, n),
        "components": {
            "Run.load": measure("Run.load", lambda: None, lambda _: engine.Run.load(spec_json, state) and None, n),
            "Run.dumps": measure("Run.dumps", lambda: None, lambda _: loaded.dumps() and None, n),
            "serializer.deserialize_json": measure(
                "deserialize_json", lambda: None, lambda _: serializer.deserialize_json(full_state) and None, n),
            "serializer.serialize_json": measure(
                "serialize_json", lambda: None, lambda _: serializer.serialize_json(loaded._wf) and None, n),
        },
        "state_bytes": len(state),
        "full_state_bytes": len(full_state.encode()),
        "iterations": n,
    }
    return figures


# --- orchestration ------------------------------------------------------------------------------------------------


def wait_until_quiet(max_seconds: float) -> tuple[float, float | None]:
    """Wait up to MAX_SECONDS for other processes to leave the CPUs alone; return (waited, their CPUs last seen)."""
    began = time.monotonic()
    others = None
    while True:
        before, own_before = _cpu_snapshot(None), time.process_time()
        time.sleep(3.0)
        after, own_after = _cpu_snapshot(None), time.process_time()
        if before is None or after is None:
            return time.monotonic() - began, None
        others = max(0.0, (after[0] - before[0]) - (own_after - own_before)) / 3.0
        waited = time.monotonic() - began
        if others <= OTHERS_WARNING or waited >= max_seconds:
            return waited, others
        log(f"  other processes are using {others:.2f} CPUs; waiting ({waited:.0f}/{max_seconds:.0f} s)")


def run_worker(spec: dict[str, Any]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(prefix="bench-result-", suffix=".json", delete=False) as handle:
        result_path = handle.name
    spec = {**spec, "result_path": result_path}
    began = time.perf_counter()
    try:
        completed = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)],
                                   stdout=subprocess.DEVNULL, check=False)
        if completed.returncode != 0:
            return {"error": f"worker exited with status {completed.returncode}",
                    "wall_seconds": time.perf_counter() - began,
                    **{k: spec[k] for k in ("kind", "database", "size", "run") if k in spec}}
        with open(result_path, encoding="utf-8") as source:
            result = json.load(source)
    finally:
        os.unlink(result_path)
    result["wall_seconds"] = time.perf_counter() - began
    return result


def worker_main(raw: str) -> None:
    spec = json.loads(raw)
    result = worker_floors(spec) if spec["kind"] == "floors" else worker_cycle(spec)
    with open(spec["result_path"], "w", encoding="utf-8") as out:
        json.dump(result, out)


def _check_year(year: int) -> None:
    """demo.simulate fires the report deadline at 01:00 on 16/12; if 15/12 is a day off the deadline rolls forward
    past that moment and the simulation stops before consolidation. Refuse such years up front."""
    from workflows.calendar import WorkingCalendar  # noqa: PLC0415

    calendar = WorkingCalendar()
    for y in (year, year - 2):
        if not calendar.is_working_day(date(y, 12, 15)):
            raise SystemExit(f"15/12/{y} is not a working day: demo.simulate cannot finish that year's cycle "
                             f"(its deadline rolls past the simulated timer pass); choose another --year")


def _machine() -> dict[str, Any]:
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {}
    for package in ("SpiffWorkflow", "SQLAlchemy", "psycopg"):
        try:
            from importlib.metadata import version  # noqa: PLC0415

            versions[package] = version(package)
        except Exception:  # noqa: BLE001
            versions[package] = None
    return {"cpu": model, "cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "packages": versions}


def _finite(value: Any) -> Any:
    """NaN (a figure with no runs behind it) as null, so the JSON file is strict JSON."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def aggregate(runs: list[dict[str, Any]], databases: list[str], sizes: list[int]) -> dict[str, dict[int, dict]]:
    table: dict[str, dict[int, dict]] = {}
    for database in databases:
        for size in sizes:
            ok = [r for r in runs if r.get("database") == database and r.get("size") == size and "error" not in r]
            failed = [r for r in runs if r.get("database") == database and r.get("size") == size and "error" in r]
            p50s = [r["completion"]["p50_ms"] for r in ok]
            p95s = [r["completion"]["p95_ms"] for r in ok]
            table.setdefault(database, {})[size] = {
                "runs": len(ok),
                "failed_runs": len(failed),
                "completions_per_run": _median([r["completion"]["count"] for r in ok]),
                "p50_ms": _median(p50s), "p50_min_ms": min(p50s, default=float("nan")),
                "p50_max_ms": max(p50s, default=float("nan")),
                "p95_ms": _median(p95s), "p95_min_ms": min(p95s, default=float("nan")),
                "p95_max_ms": max(p95s, default=float("nan")),
                "cycle_seconds": _median([r["cycle_seconds"] for r in ok]),
                "cycle_min_seconds": min((r["cycle_seconds"] for r in ok), default=float("nan")),
                "cycle_max_seconds": max((r["cycle_seconds"] for r in ok), default=float("nan")),
                "open_seconds": _median([r["open_seconds"] for r in ok]),
                "open_min_seconds": min((r["open_seconds"] for r in ok), default=float("nan")),
                "open_max_seconds": max((r["open_seconds"] for r in ok), default=float("nan")),
                "per_step_p50_ms": {step: _median([r["per_step"][step]["p50_ms"] for r in ok
                                                   if r["per_step"][step].get("count")]) for step in REPORT_STEPS},
                "cpu_p50_ms": _median([r["completion_cpu"]["p50_ms"] for r in ok if r["completion_cpu"]["count"]]),
                "cpu_p95_ms": _median([r["completion_cpu"]["p95_ms"] for r in ok if r["completion_cpu"]["count"]]),
                "pooled_p50_ms": percentile([ms for r in ok for ms in r["report_ms"]], 50),
                "pooled_p95_ms": percentile([ms for r in ok for ms in r["report_ms"]], 95),
                "cpu_share": _median([r["cpu_share"] for r in ok]),
                "max_loadavg_1min": max((max(r["loadavg_1min_before_after"]) for r in ok), default=float("nan")),
                "max_other_cpus": max((r["other_cpus"] for r in ok if r["other_cpus"] is not None),
                                      default=float("nan")),
                "gc_gen2_collections": _median([r["gc_during_cycle"]["collections"][2] for r in ok]),
                "gc_pause_seconds": _median([sum(r["gc_during_cycle"]["pause_seconds"]) for r in ok]),
                "first_decile_p50_ms": _median([r["deciles_p50_ms"][0] for r in ok if r["deciles_p50_ms"]]),
                "last_decile_p50_ms": _median([r["deciles_p50_ms"][-1] for r in ok if r["deciles_p50_ms"]]),
            }
    return table


def evaluate_targets(table: dict[str, dict[int, dict]], floors: dict[str, Any] | None,
                     sizes: list[int]) -> list[dict[str, Any]]:
    targets = []
    largest = max(sizes)
    base = BASELINE_SIZE if BASELINE_SIZE in sizes else min(sizes)
    for database, by_size in table.items():
        if largest != base:
            small, big = by_size[base]["p95_ms"], by_size[largest]["p95_ms"]
            ratio = big / small if small == small and small > 0 else float("nan")
            targets.append({
                "target": f"flat: p95 at {largest} within {FLAT_RATIO}x of p95 at {base}", "database": database,
                "figure": f"{big:.2f} / {small:.2f} ms = {ratio:.2f}x", "ratio": ratio, "met": ratio <= FLAT_RATIO})
        if database == "sqlite":
            for size in sizes:
                p50 = by_size[size]["p50_ms"]
                targets.append({"target": f"p50 under {SQLITE_P50_MS:g} ms on SQLite", "database": database,
                                "size": size, "figure": f"{p50:.2f} ms at {size}", "value_ms": p50,
                                "met": p50 < SQLITE_P50_MS})
        if floors and "save_and_reload" in floors:
            floor = floors["save_and_reload"]["p50_ms"]
            for size in sizes:
                p50 = by_size[size]["p50_ms"]
                ratio = p50 / floor
                targets.append({"target": f"p50 within {FLOOR_RATIO:g}x of the save-and-reload floor",
                                "database": database, "size": size,
                                "figure": f"{p50:.2f} / {floor:.3f} ms = {ratio:.1f}x at {size}", "ratio": ratio,
                                "met": ratio <= FLOOR_RATIO})
    return targets


def _range(value: float, low: float, high: float, runs: int, fmt: str = "{:.2f}") -> str:
    if value != value:
        return "-"
    text = fmt.format(value)
    return f"{text} ({fmt.format(low)}-{fmt.format(high)})" if runs > 1 else text


def print_report(meta: dict[str, Any], table: dict[str, dict[int, dict]], floors: dict[str, Any] | None,
                 targets: list[dict[str, Any]]) -> None:
    out = []
    out.append(f"Task-completion benchmark, {meta['started_at']} on {meta['machine']['cpu']} "
               f"({meta['machine']['cpus']} CPUs), Python {meta['machine']['python']}, "
               f"SpiffWorkflow {meta['machine']['packages'].get('SpiffWorkflow')}, "
               f"SQLAlchemy {meta['machine']['packages'].get('SQLAlchemy')}")
    out.append(f"Year {meta['year']} after a warm-up cycle {meta['year'] - 2} of {meta['warmup_agencies']} agencies; "
               f"seed {meta['seed']}; session expire_on_commit={meta['expire_on_commit']}; "
               f"median over runs, (min-max) across runs")
    for line in meta.get("settings", []):
        out.append(line)
    out.append("")
    out.append("One agency-report task completion through the service (draft_report, approve_report, review_report)")
    one = "{:.1f}"
    header = (f"{'database':<11}{'agencies':>9}{'runs':>5}{'completions':>12}  {'p50 ms':<21}{'p95 ms':<21}"
              f"{'cycle s':<21}{'open s':<18}")
    out.append(header)
    out.append("-" * len(header))
    for database, by_size in table.items():
        for size, row in by_size.items():
            runs = row["runs"]
            failed = f"  ({row['failed_runs']} failed)" if row["failed_runs"] else ""
            completions = f"{row['completions_per_run']:.0f}" if runs else "-"
            out.append(
                f"{database:<11}{size:>9}{runs:>5}{completions:>12}  "
                f"{_range(row['p50_ms'], row['p50_min_ms'], row['p50_max_ms'], runs):<21}"
                f"{_range(row['p95_ms'], row['p95_min_ms'], row['p95_max_ms'], runs):<21}"
                f"{_range(row['cycle_seconds'], row['cycle_min_seconds'], row['cycle_max_seconds'], runs, one):<21}"
                f"{_range(row['open_seconds'], row['open_min_seconds'], row['open_max_seconds'], runs):<18}"
                f"{failed}".rstrip())
    out.append("")
    out.append("Diagnostics (medians over runs)")
    header = (f"{'database':<11}{'agencies':>9}{'cpu p50/p95 ms':>16}{'p50 draft/approve/review':>26}"
              f"{'1st/last 10% p50':>18}{'gc2':>5}{'cpu':>6}{'others':>8}")
    out.append(header)
    out.append("-" * len(header))
    for database, by_size in table.items():
        for size, row in by_size.items():
            if not row["runs"]:
                continue
            steps = "/".join(f"{row['per_step_p50_ms'][step]:.2f}" for step in REPORT_STEPS)
            trend = (f"{row['first_decile_p50_ms']:.2f}/{row['last_decile_p50_ms']:.2f}"
                     if row["first_decile_p50_ms"] == row["first_decile_p50_ms"] else "-")
            out.append(f"{database:<11}{size:>9}{row['cpu_p50_ms']:>8.2f}/{row['cpu_p95_ms']:<7.2f}{steps:>26}"
                       f"{trend:>18}{row['gc_gen2_collections']:>5.0f}{row['cpu_share']:>6.2f}"
                       f"{row['max_other_cpus']:>8.2f}")
    out.append("cpu p50/p95: CPU time of the completion on the worker's thread (not PostgreSQL's server side); "
               "1st/last 10%: p50 of the first and last tenth of the completions in order; gc2: full collections in "
               "the cycle; cpu: worker CPU time / cycle wall time; others: CPUs other processes kept busy (worst run)")
    busy = [f"{db} {size}" for db, by in table.items() for size, row in by.items()
            if row["runs"] and row["max_other_cpus"] > OTHERS_WARNING]
    if busy:
        out.append(f"WARNING: other processes used more than {OTHERS_WARNING} CPU during: {', '.join(busy)} "
                   f"(of {os.cpu_count()} CPUs); those figures are inflated by CPU contention.")
    out.append("")
    if floors and "error" not in floors:
        out.append(f"Engine floors for the same completion (draft_report of agency_report, in-process, "
                   f"{floors['iterations']} iterations each)")
        header = f"{'floor':<74}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}"
        out.append(header)
        out.append("-" * len(header))
        rows = [
            ("(1) raw SpiffWorkflow in memory: complete + do_engine_steps", floors["in_memory"]),
            ("(2) (1) + Run.load + Run.dumps (instance state only, JSON)  <- the floor", floors["save_and_reload"]),
            ("    (1) + full BpmnWorkflowSerializer deserialize_json/serialize_json",
             floors["full_serializer_round_trip"]),
            ("    the app's wrapper: Run.load, Run.complete, Run.advance(now), Run.dumps", floors["app_wrapper"]),
        ]
        rows += [(f"    component: {name}", figures) for name, figures in floors["components"].items()]
        for name, figures in rows:
            out.append(f"{name:<74}{figures['p50_ms']:>9.3f}{figures['p95_ms']:>9.3f}{figures['mean_ms']:>9.3f}")
        out.append(f"state per instance: {floors['state_bytes']:,} bytes (Run.dumps) vs "
                   f"{floors['full_state_bytes']:,} bytes (serialize_json, spec included)")
        out.append("")
    elif floors:
        out.append(f"Engine floors: FAILED ({floors['error']})")
        out.append("")
    out.append("Targets")
    for target in targets:
        flag = "MET    " if target["met"] else "NOT MET"
        out.append(f"  [{flag}] {target['database']:<11} {target['target']}: {target['figure']}")
    print("\n".join(out), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", help="agency counts, comma-separated (default 28,280,2800)")
    parser.add_argument("--databases", default=",".join(DEFAULT_DATABASES), help="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=DEFAULT_PG_URL,
                        help="bench database; created if missing, every table dropped and recreated per run")
    parser.add_argument("--repeat", type=int, help="runs per database and size (default 3; 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="sizes 28,280 and one run each (about a minute)")
    parser.add_argument("--json", dest="json_path", help="write every figure to this file")
    parser.add_argument("--year", type=int, default=DEFAULT_YEAR, help="measured year; warm-up is year-2")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup-agencies", type=int, default=WARMUP_AGENCIES)
    parser.add_argument("--floor-iterations", type=int, help="iterations per engine floor (default 1000; 300 quick)")
    parser.add_argument("--expire-on-commit", action="store_true",
                        help="session as Flask-SQLAlchemy makes it (the `flask simulate` CLI); default is the "
                             "tests' Session(expire_on_commit=False)")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="before each run, wait up to SECONDS for other processes to stop using the CPUs "
                             "(for a shared machine; default 0: do not wait)")
    parser.add_argument("--retry-busy", type=int, default=0, metavar="N",
                        help=f"run a measurement again, up to N times, when other processes used more than "
                             f"{OTHERS_WARNING} CPU during it; the least disturbed run is kept (default 0)")
    parser.add_argument("--no-request-cost", action="store_true",
                        help="skip the headline: the per-request cost and the province-wide clicks (request_cost.py)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker)
        return

    default_sizes = QUICK_SIZES if args.quick else DEFAULT_SIZES
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(default_sizes)
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = set(databases) - set(DEFAULT_DATABASES)
    if unknown or not databases or not sizes or min(sizes) < 1:
        parser.error(f"databases must be among {', '.join(DEFAULT_DATABASES)} and sizes positive")
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)
    iterations = args.floor_iterations or (300 if args.quick else 1000)
    _check_year(args.year)
    started = time.perf_counter()
    meta: dict[str, Any] = {
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": _machine(), "sizes": sizes, "databases": databases, "repeat": repeat, "year": args.year,
        "seed": args.seed, "warmup_agencies": args.warmup_agencies, "expire_on_commit": args.expire_on_commit,
        "percentile": "linear interpolation between closest ranks", "report_steps": list(REPORT_STEPS),
        "settings": [],
    }
    if "postgresql" in databases:
        try:
            meta["postgres_database"] = ensure_postgres_database(args.postgres_url)
        except SystemExit:
            raise
        except Exception as exc:  # noqa: BLE001 - no server: say so and go on with SQLite
            log(f"PostgreSQL unavailable at {args.postgres_url}: {exc}; skipping it")
            meta["postgres_error"] = str(exc)
            databases.remove("postgresql")
            if not databases:
                raise SystemExit("no database left to measure") from None

    if not args.no_request_cost:
        # The headline: what one request costs (a new session, the user loaded by id), and every province-wide click.
        # In a subprocess, like every measurement here, so nothing it caches or imports colours the runs below.
        log("the headline: per-request cost and province-wide clicks (bench/request_cost.py)")
        headline = subprocess.run([sys.executable, str(REPO / "bench" / "request_cost.py"), "--sizes",
                                   ",".join(map(str, sizes)), "--databases", ",".join(databases),
                                   "--postgres-url", args.postgres_url], capture_output=True, text=True)
        print(headline.stdout, flush=True)
        if headline.returncode:
            log(f"request_cost.py failed: {headline.stderr[-2000:]}")
    log(f"engine floors ({iterations} iterations each)")
    if args.wait_quiet > 0:
        wait_until_quiet(args.wait_quiet)
    floors = run_worker({"kind": "floors", "year": args.year, "iterations": iterations})

    runs: list[dict[str, Any]] = []
    total = len(databases) * repeat * len(sizes)
    for database in databases:
        for run in range(repeat):
            for size in sizes:  # sizes interleaved across repeats, so machine noise spreads over all of them
                log(f"[{len(runs) + 1}/{total}] {database}, {size} agencies, run {run + 1}/{repeat} "
                    f"(elapsed {time.perf_counter() - started:.0f} s)")
                attempts: list[dict[str, Any]] = []
                for _attempt in range(1 + max(0, args.retry_busy)):
                    waited, _ = wait_until_quiet(args.wait_quiet) if args.wait_quiet > 0 else (0.0, None)
                    result = run_worker({
                        "kind": "cycle", "database": database, "size": size, "run": run, "year": args.year,
                        "seed": args.seed, "warmup_agencies": args.warmup_agencies,
                        "postgres_url": args.postgres_url, "expire_on_commit": args.expire_on_commit})
                    result["waited_for_quiet_seconds"] = waited
                    attempts.append(result)
                    if "error" in result:
                        log(f"  FAILED: {result['error']}")
                        break
                    c = result["completion"]
                    log(f"  p50 {c['p50_ms']:.2f} ms, p95 {c['p95_ms']:.2f} ms over {c['count']} completions; "
                        f"cycle {result['cycle_seconds']:.1f} s, open {result['open_seconds']:.2f} s "
                        f"(worker {result['wall_seconds']:.0f} s; others used {result['other_cpus'] or 0:.2f} CPUs)")
                    if (result["other_cpus"] or 0.0) <= OTHERS_WARNING:
                        break
                    if _attempt < args.retry_busy:
                        log("  the machine was busy during that run; running it again")
                # Keep the run least disturbed by other processes.
                result = min(attempts, key=lambda r: r.get("other_cpus") if r.get("other_cpus") is not None else 0.0)
                result["attempts"] = len(attempts)
                runs.append(result)

    settings = meta["settings"]
    for database in databases:
        sample = next((r for r in runs if r.get("database") == database and "error" not in r), None)
        if sample is None:
            continue
        db = sample["db"]
        if database == "sqlite":
            pragmas = ", ".join(f"{k}={v}" for k, v in db["pragmas"].items())
            settings.append(f"SQLite {db['sqlite_version']} temp file, pragmas from {db['pragmas_source']}: {pragmas}; "
                            f"engine options from {db['engine_options_source']}: {db['engine_options']}")
        else:
            settings.append(f"PostgreSQL {db['server_version']} database '{db['database']}' via {db['driver']}, "
                            f"tables dropped and recreated per run; engine options {db['engine_options']}")
    table = aggregate(runs, databases, sizes)
    targets = evaluate_targets(table, floors if "error" not in floors else None, sizes)
    meta["total_seconds"] = time.perf_counter() - started
    print_report(meta, table, floors, targets)
    log(f"done in {meta['total_seconds']:.0f} s")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as out:
            summary = {db: {str(size): row for size, row in by.items()} for db, by in table.items()}
            json.dump(_finite({"meta": meta, "summary": summary, "targets": targets, "floors": floors, "runs": runs}),
                      out, indent=1, default=str, allow_nan=False)
        log(f"figures written to {args.json_path}")


if __name__ == "__main__":
    main()
