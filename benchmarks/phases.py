#!/usr/bin/env python
"""Where a submission's grading time goes, phase by phase (judge side, one submission at a time).

    python benchmarks/phases.py [--n 40] [--assignment dropout|conv] [--repeats 5]

Builds N submissions like ``bench_grading.py`` does (correct and buggy variants, filled into the
assignment's notebook), grades them in this process with ``grade_submission`` one after the other
(``--jobs 1``, so phases do not overlap) and times each phase by wrapping the functions that do
it. Prints the mean wall time per submission of each phase, and for comparison the time the
reference functions themselves spend on one battery's inputs (in-process), which is the
denominator of the benchmark's overhead ratio.

Phases (nested ones are indented): reading and extracting the notebook; starting the sandbox
(getting a worker from the zygote, then the start message, confinement and loading the code);
the battery (calls to the student's functions: the round trips carrying them, of which encoding the
requests in the judge; the rest is the checks' own work); closing the worker (kill, wait,
cgroup and folder removal); writing the record. Also prints CPU time per submission of the
judge, of the zygote with its workers, and of the worker alone. Works on older versions of the
grader too (phases they do not have read 0), for before/after comparisons.

Then the floors under the 2x overhead target (grading time <= 2x the student's functions'
time, so everything else must fit in the functions' own time): the battery run in-process with
no sandbox at all, and a sandbox started with the reference code and closed again without a
single call (the price of a fresh isolated process per submission); and the jail each worker
puts itself in (privileges dropped, seccomp filter loaded), timed in forked children.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

import nbformat  # noqa: E402

import bench_grading  # noqa: E402
from grader import assignments, batch, grading  # noqa: E402
from grader.nbgrader_bridge.fill import fill_solutions  # noqa: E402
from grader.sandbox import judge  # noqa: E402

TOTALS: dict[str, float] = defaultdict(float)
CALLS = 0  # calls to the student's functions (one round trip each in versions before batches)
COUNTS: dict[str, int] = defaultdict(int)


def _wrap(owner, name: str, phase: str) -> None:
    fn = getattr(owner, name, None)
    if fn is None:  # not in this version of the grader
        return

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TOTALS[phase] += time.perf_counter() - start
            COUNTS[phase] += 1

    setattr(owner, name, timed)


def instrument() -> None:
    """Wrap the functions each phase consists of (module attributes, looked up at call time)."""
    _wrap(grading, "grade_submission", "total")
    _wrap(grading, "_extract", "extract")
    _wrap(judge.SandboxedStudent, "_start", "start")

    _wrap(judge.ZYGOTE, "spawn", "start: zygote spawn")
    _wrap(grading, "run_battery", "battery")
    _wrap(judge.SandboxedStudent, "_request", "battery: calls")  # versions with a round trip per call
    _wrap(judge.SandboxedStudent, "_run_once", "battery: calls")  # versions that batch the calls
    _wrap(judge, "encode_parts", "battery: calls: encode")
    _wrap(judge._Worker, "kill", "close")
    run = getattr(judge.SandboxedStudent, "run", None)
    if run is not None:  # batching versions: count the calls inside the batches

        def counting_run(self, chains):
            global CALLS
            CALLS += sum(len(g) for g in chains)
            return run(self, chains)

        judge.SandboxedStudent.run = counting_run
    kill = judge._Worker.kill

    def kill_counting(worker):  # the worker's own CPU time, just before it is killed
        try:
            TOTALS["worker cpu"] += int(open(f"/proc/{worker.pid}/schedstat").read().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            pass
        kill(worker)

    judge._Worker.kill = kill_counting


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _zygote_cpu() -> float:
    """CPU seconds of the zygote and the workers it has reaped (from /proc; 0 if unknown)."""
    proc = judge.ZYGOTE._proc
    if proc is None:
        return 0.0
    try:
        fields = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def empty_sandbox(source: str, n: int) -> tuple[float, float, float]:
    """Mean seconds per sandbox started with ``source`` and closed without any call: wall time,
    judge CPU, and CPU of the zygote with its workers (spares included, as in grading)."""
    judge.SandboxedStudent([("submission.py", source)]).close()  # warm-up
    cpu0, zcpu0, start = _self_cpu(), _zygote_cpu(), time.perf_counter()
    for _ in range(n):
        judge.SandboxedStudent([("submission.py", source)]).close()
    wall = time.perf_counter() - start
    return wall / n, (_self_cpu() - cpu0) / n, (_zygote_cpu() - zcpu0) / n


def jail_cost(n: int) -> tuple[float, float, float]:
    """The jail each worker puts itself in before the zygote hands it out (off the submission's
    critical path, but CPU all the same): mean seconds of ``worker._confine`` (own uid as root,
    user namespace, session, keyring, Landlock, no capabilities, seccomp) in N forked children,
    of loading the seccomp filter alone, and of building the filter (once per zygote)."""
    from grader.sandbox import privileges, syscall_filter, worker

    start = time.perf_counter()
    flt, _ = syscall_filter.build()
    built = time.perf_counter() - start
    uid = privileges.UID_BASE + 127 if os.geteuid() == 0 else None
    totals = [0.0, 0.0]
    with tempfile.TemporaryDirectory(prefix="grader-jail-") as folder:
        for _ in range(n):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                start = time.perf_counter()
                worker._confine(folder, worker.Confinement(uid, uid is not None, None))
                confined = time.perf_counter()
                syscall_filter.load(flt)
                done = time.perf_counter()
                os.write(w, f"{done - start} {done - confined}".encode())
                os._exit(0)
            os.close(w)
            text = os.read(r, 100).decode().split()
            os.close(r)
            os.waitpid(pid, 0)
            totals = [t + float(v) for t, v in zip(totals, text)]
    return totals[0] / n, totals[1] / n, built


def build(assignment: assignments.Assignment, n: int, folder: Path) -> None:
    """N notebooks: the assignment's notebook with its solution cells filled, correct and buggy."""
    correct, buggy = bench_grading.variants(assignment)
    base_nb = nbformat.read(str(assignment.notebook), as_version=4)
    for i in range(n):
        pool = correct if i % 2 == 0 else buggy
        nb = fill_solutions(base_nb, pool[(i // 2) % len(pool)].source, assignment.functions)
        (folder / f"s{i:04d}.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--assignment", default="dropout", choices=("dropout", "conv"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    assignment = assignments.get(args.assignment)
    with tempfile.TemporaryDirectory(prefix="grader-phases-") as tmp:
        folder = Path(tmp) / "subs"
        folder.mkdir()
        build(assignment, args.n, folder)
        items = batch.collect([str(folder)])
        results = batch.ResultsFile(Path(tmp) / "results.jsonl")
        _wrap(results, "append", "write record")
        list(batch.grade_batch(items[:2], args.assignment))  # warm-up: zygote, imports, caches
        floor = empty_sandbox(bench_grading.variants(assignment)[0][0].source, n=max(args.n, 20))
        instrument()
        per_sub: list[float] = []
        cpu0, zcpu0 = _self_cpu(), _zygote_cpu()
        for item in items:
            start = time.perf_counter()
            results.append(grading.grade_submission(item.path, args.assignment, label=item.label))
            per_sub.append(time.perf_counter() - start)
        cpu, zcpu = _self_cpu() - cpu0, _zygote_cpu() - zcpu0
        records = [json.loads(line) for line in (Path(tmp) / "results.jsonl").read_text().splitlines()]
    own, in_process = bench_grading.student_function_time(assignment, args.repeats)
    jail = jail_cost(max(args.n, 20))
    n = len(items)
    calls = COUNTS["battery: calls"] / n
    n_calls = CALLS or COUNTS["battery: calls"]  # older versions: one round trip per call
    print(f"{args.assignment}: {n} submissions graded one at a time; mean wall ms per submission")
    checks_own = TOTALS["battery"] - TOTALS["battery: calls"]
    rows = [
        ("grading one submission (all phases, record written)", sum(per_sub)),
        ("  extract (read + parse the notebook, source cells)", TOTALS["extract"]),
        ("  start the sandbox", TOTALS["start"]),
        ("    zygote spawn (a ready spare, or fork + cgroup + namespaces)", TOTALS["start: zygote spawn"]),
        ("    start message, confinement, loading the code",
         TOTALS["start"] - TOTALS["start: cgroup"] - TOTALS["start: zygote spawn"]),
        ("  battery", TOTALS["battery"]),
        (f"    calls to student functions ({calls:.0f} round trips, {n_calls / n:.0f} calls)", TOTALS["battery: calls"]),
        ("      of which encoding the requests in the judge", TOTALS["battery: calls: encode"]),
        ("    the checks' own work (inputs, validation)", checks_own),
        ("  close the worker (kill, wait, clean up)", TOTALS["close"]),
        ("  write the record", TOTALS["write record"]),
    ]
    for label, seconds in rows:
        print(f"  {label:<62} {seconds / n * 1000:8.2f}")
    print(f"  {'median submission':<62} {statistics.median(per_sub) * 1000:8.2f}")
    print(f"reference functions on one battery's inputs (in-process): {own * 1000:.2f} ms; "
          f"whole battery in-process: {in_process * 1000:.2f} ms (checks' own work "
          f"{(in_process - own) * 1000:.2f} ms)")
    print(f"CPU per submission: judge process {cpu / n * 1000:.2f} ms, zygote and workers "
          f"{zcpu / n * 1000:.2f} ms (clock ticks of {1000 / os.sysconf('SC_CLK_TCK'):.0f} ms, summed), "
          f"of which the worker itself (from its start to its kill) {TOTALS['worker cpu'] / n * 1000:.2f} ms")
    print(f"graded: {sum(r['status'] == 'graded' for r in records)}/{n}")
    print(f"floors under the 2x target, which leaves {own * 1000:.2f} ms (the functions' own time) for "
          f"everything else:")
    print(f"  the checks' own work, in-process with no sandbox: {(in_process - own) * 1000:.2f} ms "
          f"(the whole in-process battery is {in_process / own:.1f}x the functions' time)")
    print(f"  an empty sandbox (reference code loaded, closed without a call): {floor[0] * 1000:.2f} ms wall; "
          f"CPU: judge {floor[1] * 1000:.2f} ms, zygote and worker {floor[2] * 1000:.2f} ms")
    print(f"the jail each worker enters before it is handed out (in spares, off the critical path): "
          f"{jail[0] * 1000:.2f} ms (uid, user namespace, session, keyring, Landlock, capabilities, seccomp), "
          f"of which loading the seccomp filter {jail[1] * 1000:.2f} ms; building the filter, once per zygote: "
          f"{jail[2] * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
