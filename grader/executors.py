"""Grading on a Dask ``distributed`` cluster (optional: ``pip install 'dl-course-grader[dask]'``).

Each task grades one submission on a worker with the same sandboxed judge as local grading
(:func:`grader.grading.grade_submission`). The client sends the submission's bytes, not its path,
so workers need no shared filesystem, only the same ``grader`` version installed. Workers send
back plain dicts (the JSON record plus the few fields the record leaves out) that the client turns
back into :class:`~grader.results.SubmissionResult` objects, so results are written in exactly
the same record format as ``grader grade --jobs``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

from grader import grading_version
from grader.batch import Item
from grader.extract import ExtractionError, read_submission
from grader.grading import fault_result, grade_submission
from grader.nbgrader_bridge.student_ids import refused_path
from grader.results import SubmissionResult

#: Submissions sent to the cluster but not yet returned, per worker thread: enough to keep every
#: thread busy, few enough that a 50,000-submission batch never sits in memory at once.
IN_FLIGHT_PER_THREAD = 4
MIN_IN_FLIGHT = 16
CONNECT_TIMEOUT = "20s"


class ClusterError(RuntimeError):
    """The cluster cannot be used at all (extra not installed, scheduler unreachable, version skew)."""


def _payload(result: SubmissionResult) -> dict[str, Any]:
    """A plain-dict form of a result: the JSON record plus the fields the record omits."""
    return {
        "record": result.to_dict(),
        "cells": [t.cell for t in result.tests],
        "max_score_if_error": result.max_score_if_error,
    }


def result_from_payload(payload: dict[str, Any]) -> SubmissionResult:
    """Rebuild a :class:`SubmissionResult` from :func:`grade_bytes`' reply."""
    result = SubmissionResult.from_dict(payload["record"])
    for test, cell in zip(result.tests, payload["cells"], strict=True):
        test.cell = cell
    result.max_score_if_error = float(payload["max_score_if_error"])
    return result


def grade_bytes(filename: str, data: bytes, assignment: str, label: str, limits: Any = None) -> dict[str, Any]:
    """Worker task: grade one submission given as its file name and bytes.

    The bytes are written under the original file name (messages quote it) in a fresh private
    folder, graded by the sandboxed judge, and the result returned as a plain dict.
    """
    with tempfile.TemporaryDirectory(prefix="grader-task-") as tmp:
        path = Path(tmp) / (os.path.basename(filename) or "submission")
        path.write_bytes(data)
        result = grade_submission(path, assignment, label=label, limits=limits)
    return _payload(result)


def worker_version() -> str:
    """The grader version installed where this runs (called on each worker)."""
    return grading_version()


def _read(item: Item) -> bytes | None:
    """The submission's bytes, or None when the client must grade it itself (unreadable, too big)."""
    if refused_path(item.path):  # graded here, where its submitted/ folder shows
        return None
    try:
        return read_submission(item.path)  # a link or a pipe is refused, not shipped as its target
    except ExtractionError:
        return None


def _connect(scheduler: Any):
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError(
            "grading on a Dask cluster needs the optional dependency: pip install 'dl-course-grader[dask]'"
        ) from None
    if not isinstance(scheduler, str):
        return scheduler, False  # a Client the caller owns
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT), True
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    except ValueError as exc:  # distributed's address parser: e.g. no port, unknown protocol
        raise ClusterError(f"{scheduler!r} is not a Dask scheduler address ({exc}); give e.g. tcp://HOST:8786") from None


def _check_versions(client) -> int:
    """Fail early on workers running another grader version; return the number of worker threads."""
    versions = client.run(worker_version)
    if not versions:
        raise ClusterError("the Dask cluster has no workers")
    skewed = sorted({v for v in versions.values() if v != grading_version()})
    if skewed:
        raise ClusterError(
            f"Dask workers run grader {', '.join(skewed)} but this client runs {grading_version()}; "
            "install the same version everywhere"
        )
    return sum(client.nthreads().values())


def grade_on_cluster(
    items: list[Item],
    assignment: str,
    scheduler: Any,
    on_result: Callable[[SubmissionResult], None] | None = None,
    limits: Any = None,
) -> Iterator[SubmissionResult]:
    """Grade ``items`` on a Dask cluster, yielding results as they finish (like ``grade_batch``).

    ``scheduler`` is an address such as ``"tcp://HOST:8786"`` (a client is opened and closed
    here) or an existing ``distributed.Client``. ``limits`` is passed to the sandbox on the
    worker. A task that fails on the cluster (worker lost, ...) yields an ``error`` record without
    a content hash, so a re-run with the same results file grades that submission again.
    Raises :class:`ClusterError` (on the first ``next``, before grading anything) if the cluster
    cannot be used.
    """
    client, owned = _connect(scheduler)  # first: it explains a missing extra
    from distributed import as_completed

    try:
        window = max(MIN_IN_FLIGHT, IN_FLIGHT_PER_THREAD * _check_versions(client))
        pending = iter(items)
        running = as_completed()
        futures: dict[Any, Item] = {}

        def fill() -> list[SubmissionResult]:
            """Send items until ``window`` are in flight; items that never need to run (unreadable,
            oversized: rejected before any code runs) are graded here and returned."""
            local = []
            while len(futures) < window:
                item = next(pending, None)
                if item is None:
                    break
                data = _read(item)
                if data is None:
                    local.append(grade_submission(item.path, assignment, label=item.label, limits=limits))
                    continue
                future = client.submit(grade_bytes, item.path.name, data, assignment, item.label, limits, pure=False)
                futures[future] = item
                running.add(future)
            return local

        def finish(result: SubmissionResult) -> SubmissionResult:
            if on_result:
                on_result(result)
            return result

        for result in fill():
            yield finish(result)
        for future in running:  # as_completed accepts futures added while it is iterated
            item = futures.pop(future)
            try:
                result = result_from_payload(future.result())
            except Exception as exc:  # a worker died or the task raised: report, don't abort the batch
                result = fault_result(item.label, assignment, f"the cluster task failed ({type(exc).__name__})")
            future.release()
            yield finish(result)
            for local in fill():
                yield finish(local)
    finally:
        if owned:
            client.close()
