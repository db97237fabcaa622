"""The Dask executor: same sandbox on the worker, same records as local grading, failures retried."""

import inspect

import pytest

distributed = pytest.importorskip("distributed")

from grader import executors  # noqa: E402
from grader.batch import Item, ResultsFile  # noqa: E402
from grader.grading import grade_submission  # noqa: E402
from grader.results import SubmissionResult  # noqa: E402
from solutions import dropout as reference  # noqa: E402
from support import records

BROKEN = "import numpy as np\n\ndef dropout_forward(x, dropout_param):\n    raise ValueError('nope')\n"


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture
def submissions(tmp_path):
    good = tmp_path / "good.py"
    good.write_text(inspect.getsource(reference))
    broken = tmp_path / "broken.py"
    broken.write_text(BROKEN)
    not_json = tmp_path / "garbled.ipynb"
    not_json.write_text("{ this is not a notebook")
    missing = tmp_path / "missing.py"
    return [Item(str(p), p) for p in (good, broken, not_json, missing)]


def _comparable(result: SubmissionResult) -> dict:
    record = result.to_dict()
    # Statistical checks may word a failure differently from run to run; verdicts must agree.
    record["tests"] = [(t["name"], t["score"], t["status"]) for t in record["tests"]]
    return record


def test_cluster_records_match_local_grading(client, submissions):
    seen = []
    results = list(executors.grade_on_cluster(submissions, "dropout", client, on_result=seen.append))
    assert [r.submission for r in seen] == [r.submission for r in results]
    by_label = {r.submission: r for r in results}
    assert sorted(by_label) == sorted(i.label for i in submissions)  # each exactly once
    for item in submissions:
        local = grade_submission(item.path, "dropout", label=item.label)
        assert _comparable(by_label[item.label]) == _comparable(local)
        assert [t.cell for t in by_label[item.label].tests] == [t.cell for t in local.tests]
    good = by_label[submissions[0].label]
    assert good.status == "graded" and good.score == good.max_score > 0
    assert by_label[submissions[1].label].score < good.max_score
    assert by_label[submissions[2].label].status == "error"
    assert by_label[submissions[3].label].status == "error"


def test_cluster_results_resume_like_local_ones(client, submissions, tmp_path):
    path = tmp_path / "results.jsonl"
    results_file = ResultsFile(path)
    list(executors.grade_on_cluster(submissions[:2], "dropout", client, on_result=results_file.append))
    found = records(path)
    assert sorted(r["submission"] for r in found) == sorted(i.label for i in submissions[:2])
    reopened = ResultsFile(path)
    assert all(reopened.is_current(i, "dropout") for i in submissions[:2])


def test_failed_task_is_an_error_record_that_is_retried(client, submissions, tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("worker lost")

    # The in-process worker shares this module, so the task itself fails on the worker.
    monkeypatch.setattr(executors, "grade_submission", explode)
    results = list(executors.grade_on_cluster(submissions[:1], "dropout", client))
    assert len(results) == 1
    failed = results[0]
    assert failed.status == "error" and failed.grader_fault and "graded again" in failed.message
    assert "worker lost" not in failed.message  # internal details are not student-facing
    results_file = ResultsFile(tmp_path / "results.jsonl")
    results_file.append(failed)
    assert not ResultsFile(tmp_path / "results.jsonl").is_current(submissions[0], "dropout")


def test_workers_with_another_grader_version_are_refused(client, submissions, monkeypatch):
    monkeypatch.setattr(executors, "worker_version", lambda: "0.0.0-other")
    with pytest.raises(executors.ClusterError, match="0.0.0-other"):
        list(executors.grade_on_cluster(submissions, "dropout", client))


def test_unreachable_scheduler_is_a_clear_error(submissions, monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(executors.ClusterError, match="cannot reach the Dask scheduler"):
        list(executors.grade_on_cluster(submissions, "dropout", "tcp://127.0.0.1:9"))


def test_worker_processes_grade_through_a_scheduler_address(submissions):
    # Real worker processes: the task, its arguments and its reply cross process boundaries.
    with distributed.LocalCluster(
        processes=True, n_workers=1, threads_per_worker=1, dashboard_address=":0"
    ) as cluster:
        results = list(executors.grade_on_cluster(submissions[:2], "dropout", cluster.scheduler_address))
    assert sorted(r.submission for r in results) == sorted(i.label for i in submissions[:2])
    good = next(r for r in results if r.submission == submissions[0].label)
    assert good.status == "graded" and good.score == good.max_score > 0
    assert all(t.cell for t in good.tests)
