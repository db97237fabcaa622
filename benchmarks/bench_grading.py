#!/usr/bin/env python
"""Benchmark ``grader grade --jobs`` against stock ``nbgrader autograde`` on the same submissions.

Builds N synthetic submissions (reference, correct alternatives, catalogued mutants, unanswered)
from the released notebook, grades them with the real ``grader grade`` CLI and with stock
``nbgrader autograde`` on a course whose hidden tests run the same checks in the student's kernel
(see ``stock_baseline.py``), and prints per-submission times, the throughput ratio, the overhead
ratio (grader time per submission / time the student's functions spend on the check inputs) and
whether the scores agree. Exits 1 if any score disagrees: the statistical checks flip with
probability below 1e-9, so a disagreement is a bug.

    python benchmarks/bench_grading.py [--n 40] [--jobs 2] [--assignment dropout] [--keep DIR]
"""

from __future__ import annotations

import argparse
import inspect
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
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
import stock_baseline  # noqa: E402

import nbformat  # noqa: E402
import numpy as np  # noqa: E402

from grader import assignments  # noqa: E402
from grader.checks.base import run_battery  # noqa: E402
from grader.nbgrader_bridge.fill import fill_solutions  # noqa: E402
from grader.student import InProcessStudent  # noqa: E402

TOLERANCE = 1e-6


@dataclass(frozen=True)
class Variant:
    """One way to fill the solution cells: ``source`` is a module source, None leaves them unanswered."""

    name: str
    source: str | None


@dataclass
class Timing:
    """How long one grading run took."""

    wall: float
    cpu: float  # user + system seconds of the whole process tree
    per_submission: dict[str, float] = field(default_factory=dict)  # student -> seconds, where known
    cpu_complete: bool = True  # False if some process of the tree could not be reaped (CPU undercounted)


# ---- synthetic submissions -------------------------------------------------------------------


def variants(assignment: assignments.Assignment) -> tuple[list[Variant], list[Variant]]:
    """(correct, buggy) ways to fill the notebook, from the reference and the mutant catalogue."""
    reference = assignment.reference()
    mutants = assignment.mutants()
    correct = [Variant("reference", inspect.getsource(reference))]
    correct += [Variant(f"alternative:{m.name}", m.source(reference)) for m in mutants.ALTERNATIVES]
    buggy = [Variant(f"mutant:{m.name}", m.source(reference)) for m in mutants.MUTANTS]
    buggy.append(Variant("unanswered", None))
    return correct, buggy


def make_submissions(assignment: assignments.Assignment, released: Path, n: int) -> dict[str, tuple[Variant, str]]:
    """``n`` submissions alternating correct and buggy variants: student id -> (variant, notebook text)."""
    correct, buggy = variants(assignment)
    base = nbformat.read(str(released), as_version=4)
    out = {}
    for i in range(n):
        pool = correct if i % 2 == 0 else buggy
        variant = pool[(i // 2) % len(pool)]
        out[f"s{i:04d}"] = (variant, nbformat.writes(fill_solutions(base, variant.source, assignment.functions)))
    return out


# ---- grading runs ----------------------------------------------------------------------------


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def adopt_orphans() -> bool:
    """Become a child subreaper (Linux), so helpers the grader leaves running when it exits (the
    sandbox zygote and its workers) are re-parented here and, once reaped, their CPU time is
    counted in RUSAGE_CHILDREN. Returns False where that is not possible."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def reap_orphans(timeout: float = 10.0) -> bool:
    """Wait for every remaining child; True when none is left (so their CPU time is counted)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            time.sleep(0.02)
    return False


def run_grader(subs_dir: Path, assignment: str, jobs: int, results: Path) -> Timing:
    """Grade ``subs_dir`` with the real CLI, timing each record as it appears in the results file."""
    results.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "grader.cli", "grade", "--assignment", assignment, str(subs_dir),
           "--jobs", str(jobs), "--json", str(results)]
    cpu0, start = _children_cpu(), time.perf_counter()
    errlog = results.with_name(results.name + ".stderr")  # a file: a full pipe would stall the grader
    with errlog.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=stock_baseline.stock_env())
    done: dict[str, float] = {}
    offset, partial = 0, b""
    while True:
        finished = proc.poll() is not None
        if results.exists():  # records are appended whole; read only what is new
            with results.open("rb") as fh:
                fh.seek(offset)
                chunk = fh.read()
            offset += len(chunk)
            *lines, partial = (partial + chunk).split(b"\n")
            for line in lines:
                done.setdefault(Path(json.loads(line)["submission"]).stem, time.perf_counter() - start)
        if finished:
            break
        time.sleep(0.01)
    wall = time.perf_counter() - start
    complete = reap_orphans()
    cpu = _children_cpu() - cpu0
    if proc.returncode != 0:
        raise RuntimeError(f"grader grade failed (exit {proc.returncode}):\n{errlog.read_text()[-3000:]}")
    # Time between consecutive completions (the first includes start-up): with --jobs J these are
    # amortized per-submission times, and they add up to the wall time.
    order = sorted(done.items(), key=lambda kv: kv[1])
    gaps = {s: t - (order[i - 1][1] if i else 0.0) for i, (s, t) in enumerate(order)}
    return Timing(wall, cpu, gaps, cpu_complete=complete)


LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \[\w+ \| \w+\] (.*)$")
STUDENT_START = re.compile(r"Creating/updating student with ID '([^']+)'")


def run_stock(course: Path, assignment: str) -> Timing:
    """Stock ``nbgrader autograde``; per-submission times from the log's millisecond timestamps."""
    cpu0 = _children_cpu()
    wall, log = stock_baseline.autograde(course, assignment)
    cpu = _children_cpu() - cpu0
    starts: list[tuple[str, datetime]] = []
    last = None
    for line in log.splitlines():
        m = LOG_LINE.match(line)
        if not m:
            continue
        last = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
        s = STUDENT_START.search(m.group(2))
        if s:
            starts.append((s.group(1), last))
    per = {}
    for i, (student, t) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else last
        per[student] = (end - t).total_seconds()
    return Timing(wall, cpu, per)


def student_function_time(assignment: assignments.Assignment, repeats: int) -> tuple[float, float]:
    """(seconds the reference functions spend on one battery's inputs, seconds for the whole
    in-process battery), medians of ``repeats`` unseeded runs: on a shared VM one slow spell
    doubles a run's time, and the mean would carry it into the overhead ratio's denominator."""
    spent = [0.0]
    namespace = dict(vars(assignment.reference()))

    def timed(fn):
        def wrapper(*args):
            t = time.perf_counter()
            try:
                return fn(*args)
            finally:
                spent[0] += time.perf_counter() - t
        return wrapper

    for name in assignment.functions:
        namespace[name] = timed(namespace[name])
    checks = assignment.battery().checks
    run_battery(checks, InProcessStudent(dict(namespace)))  # warm-up: imports, caches
    functions, batteries = [], []
    for _ in range(repeats):
        spent[0] = 0.0
        start = time.perf_counter()
        results = run_battery(checks, InProcessStudent(dict(namespace)), np.random.default_rng())
        batteries.append(time.perf_counter() - start)
        functions.append(spent[0])
        if any(r.status != "passed" for r in results):
            raise RuntimeError("the reference does not pass its own battery; fix that first")
    return statistics.median(functions), statistics.median(batteries)


# ---- scores ----------------------------------------------------------------------------------


def grader_scores(results: Path, assignment: assignments.Assignment) -> dict[str, dict[str, float]]:
    """Points per grade cell, per student, from the grader's JSON Lines records."""
    cell_of = {c.name: c.cell for c in assignment.battery().checks}
    out: dict[str, dict[str, float]] = {}
    for line in results.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        cells = {g: 0.0 for g in assignment.battery().cells()}
        for t in record["tests"]:
            # A name this battery lacks (checks edited mid-run) shows up as a disagreement.
            cell = cell_of.get(t["name"], "unknown check: " + t["name"])
            cells[cell] = cells.get(cell, 0.0) + t["score"]
        out[Path(record["submission"]).stem] = cells
    return out


def _agree(a: dict[str, float] | None, b: dict[str, float] | None) -> bool:
    return a is not None and b is not None and a.keys() == b.keys() and all(
        abs(a[k] - b[k]) <= TOLERANCE for k in a)


# ---- main ------------------------------------------------------------------------------------


def _prepare(work: Path) -> None:
    for name in ("course", "submissions"):
        shutil.rmtree(work / name, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def benchmark(n: int, jobs: int, assignment_name: str, work: Path, repeats: int = 5) -> bool:
    """Run the whole benchmark in ``work``, print the report; return whether all scores agree."""
    assignment = assignments.get(assignment_name)
    if assignment.kind != "code":
        raise SystemExit("the benchmark needs a code assignment (dropout or conv)")
    _prepare(work)
    adopted = adopt_orphans()
    course = work / "course"
    print(f"machine: {_machine()}")
    print(f"building {n} submissions of {assignment_name} in {work} ...", flush=True)
    released = stock_baseline.build_course(course, assignment_name)
    subs = make_submissions(assignment, released, n)
    flat = work / "submissions"
    flat.mkdir()
    for student, (_, text) in subs.items():
        (flat / f"{student}.ipynb").write_text(text, encoding="utf-8")
        dest = course / "submitted" / student / assignment_name
        dest.mkdir(parents=True)
        (dest / f"{assignment_name}.ipynb").write_text(text, encoding="utf-8")

    print(f"grader grade --jobs {jobs} ...", flush=True)
    results = work / "results.jsonl"
    ours = run_grader(flat, assignment_name, jobs, results)
    print("stock nbgrader autograde ...", flush=True)
    stock = run_stock(course, assignment_name)
    own, in_process = student_function_time(assignment, repeats)

    ours_scores = grader_scores(results, assignment)
    stock_scores = stock_baseline.cell_scores(course, assignment_name)
    print()
    print(f"{'student':<8} {'variant':<36} {'grader':>7} {'stock':>7} {'grader s*':>9} {'stock s':>8}  agree")
    disagree = []
    for student, (variant, _) in subs.items():
        a, b = ours_scores.get(student), stock_scores.get(student)
        ok = _agree(a, b)
        if not ok:
            disagree.append(student)
        fa = f"{sum(a.values()):7.2f}" if a else "    -  "
        fb = f"{sum(b.values()):7.2f}" if b else "    -  "
        ta, tb = ours.per_submission.get(student), stock.per_submission.get(student)
        print(f"{student:<8} {variant.name[:36]:<36} {fa} {fb} "
              f"{ta if ta is not None else float('nan'):9.3f} {tb if tb is not None else float('nan'):8.3f}  "
              f"{'yes' if ok else 'NO'}")
    print("* grader s: time since the previous record appeared (the first includes start-up); with --jobs J "
          "these are amortized times that add up to the wall time. stock s: from nbgrader's log.")
    for student in disagree:
        print(f"  {student}: grader {ours_scores.get(student)} vs stock {stock_scores.get(student)}")

    _summary(n, jobs, ours, stock, own, in_process, adopted)
    print(f"scores agree: {'yes, all ' + str(n) if not disagree else f'NO, {len(disagree)} of {n} differ'}")
    return not disagree


def _summary(n: int, jobs: int, ours: Timing, stock: Timing, own: float, in_process: float, adopted: bool) -> None:
    """Print the throughput and overhead figures."""
    workers = min(jobs, os.cpu_count() or 1)
    per_ours, per_stock = ours.wall / n, stock.wall / n
    steady = statistics.median(ours.per_submission.values())
    cpu_note = "" if adopted and ours.cpu_complete else " (undercounted: detached helpers not reaped)"
    print()
    print(f"submissions: {n}   grader --jobs {jobs}   stock nbgrader: one autograde call")
    print(f"grader: wall {ours.wall:.2f} s = {per_ours * 1000:.1f} ms/submission; steady state (median gap) "
          f"{steady * 1000:.1f} ms; CPU of the process tree {ours.cpu / n * 1000:.1f} ms/submission{cpu_note}")
    print(f"stock : wall {stock.wall:.2f} s = {per_stock * 1000:.1f} ms/submission; median per notebook "
          f"{statistics.median(stock.per_submission.values() or [float('nan')]) * 1000:.1f} ms; "
          f"CPU {stock.cpu / n * 1000:.1f} ms/submission")
    print(f"throughput ratio (grader / stock, wall, start-up included): {per_stock / per_ours:.1f}x   (target >= 20x)")
    print(f"throughput ratio, steady state (grader median gap vs stock median notebook): "
          f"{statistics.median(stock.per_submission.values() or [float('nan')]) / steady:.1f}x")
    print(f"student functions on the check inputs (reference, in-process): {own * 1000:.2f} ms/submission; "
          f"whole battery in-process: {in_process * 1000:.2f} ms")
    print(f"overhead ratio (grader time per submission = wall x {workers} worker(s) / N, "
          f"over student function time): {per_ours * workers / own:.1f}x   (target <= 2x)")
    print(f"overhead ratio, steady state (median gap x {workers} / student function time): {steady * workers / own:.1f}x")
    print(f"overhead ratio, CPU (grader process-tree CPU per submission / student function time): "
          f"{ours.cpu / n / own:.1f}x{cpu_note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40, help="number of synthetic submissions (default 40)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="grader --jobs (default: CPUs)")
    parser.add_argument("--assignment", default="dropout", choices=[a for a, v in assignments.ASSIGNMENTS.items() if v.kind == "code"])
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep the course, submissions and results")
    parser.add_argument("--repeats", type=int, default=5, help="in-process battery runs for the student-time baseline")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    if args.keep:
        return 0 if benchmark(args.n, args.jobs, args.assignment, Path(args.keep).resolve(), args.repeats) else 1
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        return 0 if benchmark(args.n, args.jobs, args.assignment, Path(tmp), args.repeats) else 1


if __name__ == "__main__":
    sys.exit(main())
