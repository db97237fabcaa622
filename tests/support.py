"""Helpers the test modules share: one place for each, so no test module imports another.

Plain functions and constants (fixtures live in the modules that use them). pytest puts this
folder on ``sys.path`` (rootdir-relative imports, no ``__init__.py``), so tests write
``from support import ...``.
"""

from __future__ import annotations

import hashlib
import html
import importlib
import inspect
import io
import os
import re
import shutil
import subprocess
import tempfile
import time
import tokenize
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import nbformat

import grader.checks
from grader import assignments
from grader.nbgrader_bridge.gradebook import gradebook
from grader.nbgrader_cells import grade_id, is_solution
from grader.reports.feedback import CSP
from grader.results import parse_records
from grader.sandbox import judge
from grader.sandbox.judge import SandboxedStudent
from grader.sandbox.limits import MIB, Limits
from grader.student import Call, InProcessStudent


# ---- result records and files ---------------------------------------------------------------

def records(source: Path | str) -> list[dict]:
    """The result records of a JSON Lines results file (a path) or of printed text (a str),
    read by the grader's own reader; every non-blank line must be a record."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    found, others = parse_records(text.splitlines(keepends=True))
    assert others == 0, f"{others} line(s) that are not result records in {source!r:.200}"
    return found


def digest(path: Path) -> str:
    """The SHA-256 of a file's bytes (to show a file was left untouched)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def nested(folder, levels):
    """``folder/d/d/.../d`` ``levels`` deep, made and removed without recursion (pytest's own
    clean-up of tmp_path, shutil.rmtree, recurses per level and would fail on it)."""
    fds = [os.open(folder, os.O_RDONLY | os.O_DIRECTORY)]
    try:
        for _ in range(levels):
            os.mkdir("d", dir_fd=fds[-1])
            fds.append(os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fds[-1]))
        yield
    finally:
        for parent, child in reversed(list(zip(fds, fds[1:]))):
            os.close(child)
            os.rmdir("d", dir_fd=parent)
        os.close(fds[0])


# ---- the sandbox and the attack corpus (tests/attacks/) -------------------------------------

ATTACKS = Path(__file__).parent / "attacks"
FAST = Limits(call_seconds=1.0, load_seconds=2.0, submission_seconds=8.0, cpu_seconds=8.0,
              memory_bytes=512 * MIB, processes=8, folder_bytes=4 * MIB)


def attack(name: str, limits: Limits = FAST) -> SandboxedStudent:
    """A sandboxed student loaded from ``tests/attacks/<name>.py``."""
    return SandboxedStudent([(name, (ATTACKS / f"{name}.py").read_text())], limits)


SPARE_NAME = "grader-spare"  # grader.sandbox.zygote.SPARE_NAME (importing the zygote changes os.environ)


def zygote_children() -> list[int]:
    """PIDs of the zygote's children: workers, or orphans it adopted as subreaper.

    Spare workers (made ahead of demand, never started, no student code ever ran in them) and
    the helpers making them are not counted: they are named ``grader-spare``."""
    proc = judge.ZYGOTE._proc
    if proc is None or proc.poll() is not None:
        return []
    try:
        text = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split() if _name(int(p)) != SPARE_NAME]


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def processes_with(marker: str) -> list[int]:
    """PIDs whose command line contains ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


def wait_alive(marker: str, timeout: float = 120.0) -> None:
    """Wait until a process with ``marker`` runs: proves the attack really left one behind.
    ``timeout`` only stops a broken test from waiting forever: how soon is not the point."""
    end = time.monotonic() + timeout
    while not processes_with(marker):
        assert time.monotonic() < end, "the attack's daemon never started"
        time.sleep(0.01)


def wait_no_strays(timeout: float = 120.0, marker: str | None = None) -> None:
    """Assert that no worker or escaped process survives (the zygote reaps them; on a loaded
    machine that can take seconds, so ``timeout`` is a generous give-up, not a speed check)."""
    end = time.monotonic() + timeout
    while True:
        strays = zygote_children() + (processes_with(marker) if marker else [])
        if not strays:
            return
        if time.monotonic() > end:
            raise AssertionError(f"stray processes left behind: {strays}")
        time.sleep(0.01)

TEST = {"p": 0.5, "mode": "test"}  # honest reply: x itself


#: A correct dropout (the attacks' own honest answer).
CORRECT_DROPOUT = '''
import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        return (x * mask).astype(x.dtype, copy=False), (mode, mask)
    return x.copy(), (mode, None)


def dropout_backward(dout, cache):
    mode, mask = cache
    return dout * mask if mode == "train" else dout.copy()
'''


def processes() -> dict[int, tuple[int, str, str, bytes]]:
    """Every visible process: pid -> (parent pid, name, working folder, command line)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            cwd = ""
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        found[int(entry)] = (int(stat[stat.rindex(")") + 2:].split()[1]), name, cwd, cmdline)
    return found


def descendants(procs: dict[int, tuple[int, str, str, bytes]], root: int) -> set[int]:
    """Every process below ``root`` in the ``procs`` snapshot (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


# ---- each attack's honest twin (tests/test_attack_scores.py grades both) --------------------

@dataclass(frozen=True)
class Twin:
    """An attack's honest twin: ``code`` graded as a .py submission of ``assignment``."""

    code: str
    assignment: str = "dropout"


NOTHING = Twin('''
def dropout_forward(x, dropout_param):
    raise NotImplementedError


def dropout_backward(dout, cache):
    raise NotImplementedError
''')
ZEROS = Twin('''
import numpy as np


def dropout_forward(x, dropout_param):
    return np.zeros_like(x), None
''')
ZEROS_FLOAT64 = Twin('''
import numpy as np


def dropout_forward(x, dropout_param):
    return np.zeros(x.shape), None
''')
IDENTITY = Twin('''
def dropout_forward(x, dropout_param):
    return x.copy(), None
''')
CORRECT = Twin(CORRECT_DROPOUT)  # the attacks' own correct answer, which they give after (or while) doing harm


def without_huge(name: str, assignment: str = "dropout") -> Twin:
    """The attack ``name`` itself with its one hostile line, ``HUGE = <largest float>``, set to 1.0."""
    hostile = "HUGE = np.finfo(np.float64).max"
    code = (ATTACKS / f"{name}.py").read_text()
    assert code.count(hostile) == 1, f"{name}.py must define {hostile!r} exactly once"
    return Twin(code.replace(hostile, "HUGE = 1.0"), assignment)


def hostile_off(name: str, assignment: str = "conv") -> Twin:
    """The attack ``name`` itself with its one switch, ``HOSTILE = True``, turned off."""
    code = (ATTACKS / f"{name}.py").read_text()
    assert code.count("HOSTILE = True") == 1, f"{name}.py must define HOSTILE = True exactly once"
    return Twin(code.replace("HOSTILE = True", "HOSTILE = False"), assignment)


HONEST = {
    "array_interface": IDENTITY,  # the Pretender wraps x itself
    "builtins_abs": ZEROS,  # without patching abs, max, all
    "channel_garbage": ZEROS,  # without scribbling on file descriptors
    "conv_overflow_gradient": without_huge("conv_overflow_gradient", "conv"),
    "conv_probe_after_backward": hostile_off("conv_probe_after_backward"),  # probes answered by call order
    "conv_probe_pairs": hostile_off("conv_probe_pairs"),  # probes answered by pairing x + d with x - d
    "conv_probe_similar_inputs": hostile_off("conv_probe_similar_inputs"),  # probes answered by similar inputs
    "cpu_threads": CORRECT,
    "dropout_probe_similar_inputs": hostile_off("dropout_probe_similar_inputs", "dropout"),  # probes answered by similar inputs  # without the threads burning CPU
    "detached_child": IDENTITY,  # without the daemon
    "exit_at_load": IDENTITY,  # without the fake result and the exit at load
    "exit_fake_result": NOTHING,  # the function is nothing but the fake result and the exit
    "fake_protocol_stdout": ZEROS,  # without the fake frames and prints
    "fork_bomb": NOTHING,  # nothing but forks and sleeps
    "frame_peek": ZEROS,  # its fallback, without the search through frames and heap
    # host_*.py (tests/test_sandbox_privileges.py): each tries a host escape, then raises NotImplementedError
    **dict.fromkeys((p.stem for p in ATTACKS.glob("host_*.py")), NOTHING),
    "huge_array": NOTHING,  # nothing but an oversized reply
    "huge_file": CORRECT,  # without filling its folder
    "infinite_loop": Twin('''
import numpy as np


def dropout_forward(x, dropout_param):
    raise NotImplementedError


def dropout_backward(dout, cache):
    return np.array(dout)
'''),  # forward never returns; backward is kept
    "infinite_loop_at_load": NOTHING,
    "lying_comparison": ZEROS,  # without the view as the lying subclass
    "many_files": CORRECT,  # without opening files and sockets until it cannot
    "memory_hog": NOTHING,
    "nan_inf": ZEROS,  # a finite wrong answer of the same shape and dtype instead of NaN and inf
    "ndarray_subclass": ZEROS_FLOAT64,  # without the view as the lying subclass
    "network": NOTHING,  # defines no dropout function
    "numpy_allclose": ZEROS,  # without patching numpy
    "overflow_gradient": without_huge("overflow_gradient"),
    "pickled_payload": NOTHING,  # nothing but pickles
    "read_files": NOTHING,  # defines no dropout function
    "scalar_subclass": Twin('''
import numpy as np


def dropout_forward(x, dropout_param):
    return np.float64(0.0), None
'''),  # a plain numpy scalar instead of the lying subclass
    "signals": NOTHING,  # defines no dropout function
    "sys_modules": ZEROS_FLOAT64,  # without replacing modules and without the lying subclass
    "write_files": NOTHING,  # defines no dropout function
    # the judge's channel: leaks through exception text, forged reports and replies, oversized frames
    "judge_bad_text": NOTHING,  # raises text no record may carry, and nothing else
    "judge_encoded_leak": NOTHING,  # raises the input encoded, and nothing else
    "judge_forged_errors": NOTHING,  # forges error replies, and nothing else
    "judge_forged_notes": CORRECT,  # without the forged load report
    "judge_forged_replies": ZEROS,  # without the forged reply frames
    "judge_int_leak": NOTHING,  # raises the input as integers, and nothing else
    "judge_oversized_reply": CORRECT,  # without the 512 MiB reply frame
    "judge_raw_frames": ZEROS,  # without the hand-made frames
    "judge_stalling_header": NOTHING,  # a frame header, then nothing
    "judge_unmask_worker": NOTHING,  # without switching the masking off, raising the input
}


# ---- toy students ---------------------------------------------------------------------------

#: A student's functions for unit tests of the student interface, in process and sandboxed.
TOY_SOURCE = """
import os, time
import numpy as np
def forward(x):
    x *= 2          # modifies its input
    return x.copy(), {"secret": object()}
def backward(d, cache):
    return d + len(cache)
def boom(x):
    raise ValueError("bad shape")
def liar(x):
    return object()
def exits():
    raise SystemExit(3)
def die():
    os._exit(1)
def slow(t):
    time.sleep(t)
    return t
def echo(*args):
    return args
def mutate(d):
    d["added"] = np.int64(1)
    d["bad"] = object()
    return 0
"""


class RecordingStudent(InProcessStudent):
    """Records the batches it is given: each ``run`` is one round trip to the sandbox, the
    cost the battery's design keeps small (the checks' tests count them too)."""

    def __init__(self, namespace):
        super().__init__(namespace)
        self.batches: list[list[list[Call]]] = []

    def run(self, chains):
        self.batches.append([list(g) for g in chains])
        return super().run(chains)

    @property
    def rounds(self) -> int:
        return len(self.batches)

    @property
    def calls(self) -> int:
        return sum(len(chain) for batch in self.batches for chain in batch)


# ---- pages: hostile markup, what is live in a page, a real browser --------------------------

HOSTILE_MARKDOWN = """My answer, with $\\frac{1}{1-p}$ inline and
$$H = \\frac{D \\odot Y}{p}, \\qquad \\mathbb{E}[H] = Y.$$

<script>document.title = "pwned-script"</script>
<img src="x" onerror="document.title = 'pwned-img'">
<svg onload="document.title = 'pwned-svg'"><circle r="4"/></svg>
<a href="javascript:document.title='pwned-link'">click</a>
<iframe src="https://example.com/"></iframe><object data="https://example.com/x"></object>
<embed src="https://example.com/x"><base href="https://example.com/">
<meta http-equiv="refresh" content="0; url=https://example.com/">
<form action="https://example.com/"><input name="q"><button>go</button></form>
<style>body { display: none }</style><link rel="stylesheet" href="https://example.com/x.css">
<div style="background: url(https://example.com/beacon)">styled</div>
<math><mi href="javascript:alert(1)">x</mi></math>
<p title='x" onmouseover="alert(1)'>quoted</p><!-- <script>alert(1)</script> -->

A [markdown link](javascript:alert(1)), `$code is not math$` and ![image](javascript:alert(1)).
"""


class Page(HTMLParser):
    """Every element with its attributes and where it stands (head or body), and the text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict, str]] = []
        self.text: list[str] = []
        self.part = "head"
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.part = "body"
        self.elements.append((tag, dict(attrs), self.part))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)

    def tags(self, part=None) -> list[str]:
        return [t for t, _, p in self.elements if part in (None, p)]


def live_markup(text: str) -> list[str]:
    """What could run script, load from the network or navigate away in a page."""
    page = Page(text)
    found = [t for t in page.tags() if t in ("script", "iframe", "object", "embed", "base", "form", "link", "svg")]
    found += [f"{t} in the body" for t in page.tags("body") if t in ("style", "meta")]
    for tag, attrs, _ in page.elements:
        for name, value in attrs.items():
            if name.startswith("on") or name == "style":
                found.append(f"{tag} {name}=")
            if name in ("href", "src", "action", "data") and re.match(r"\s*(javascript|vbscript|https?):", value or "", re.I) \
                    and not (tag == "a" and (value or "").startswith("http")):
                found.append(f"{tag} {name}={value}")
    metas = [a for t, a, _ in page.elements if t == "meta"]
    if not any(a.get("http-equiv") == "Content-Security-Policy" and a.get("content") == CSP for a in metas):
        found.append("no Content-Security-Policy")
    return found


CHROMIUM = Path("/usr/bin/chromium")
BROWSER_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def browser(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    """Headless Chromium run with ``args`` and a fresh profile under ``tmp``."""
    profile = Path(tempfile.mkdtemp(dir=tmp, prefix="profile-"))
    try:
        return subprocess.run(
            [str(CHROMIUM), *BROWSER_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=120, check=True,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


# ---- nbgrader courses -----------------------------------------------------------------------

def submit_notebook(course: Path, student: str, name: str, nb) -> Path:
    """Place ``nb`` (a notebook, or raw bytes) as ``submitted/<student>/<name>/<name>.ipynb``."""
    path = course / "submitted" / student / name / f"{name}.ipynb"
    path.parent.mkdir(parents=True)
    if isinstance(nb, bytes):
        path.write_bytes(nb)
    else:
        nbformat.write(nb, str(path))
    return path


def reference_notebook(course, name):
    """The released notebook with every solution cell filled by the reference / answer key."""
    nb = nbformat.read(str(course / "release" / name / f"{name}.ipynb"), as_version=4)
    a = assignments.get(name)
    key = {grade_id(c): c.source for c in nbformat.read(str(a.notebook), as_version=4).cells}
    for cell in nb.cells:
        gid = grade_id(cell)
        if is_solution(cell):
            if a.kind == "code":
                cell.source = inspect.getsource(getattr(importlib.import_module(a.reference_module), gid))
            else:
                cell.source = key[gid]
    return nb


def cell_grades(course, student, name):
    """grade_id -> (score, max score) of a submission's code cells in the gradebook."""
    with gradebook(course) as gb:
        nb = gb.find_submission_notebook(name, name, student)
        return {g.name: (g.score, g.max_score) for g in nb.grades if g.cell_type == "code"}


def solution_and_hidden_lines(source_nb):
    """Non-trivial lines inside solution and hidden-test regions of a source notebook."""
    lines = set()
    for cell in source_nb.cells:
        for begin, end in (("### BEGIN SOLUTION", "### END SOLUTION"), ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")):
            for region in re.findall(re.escape(begin) + r"(.*?)" + re.escape(end), cell.source, re.S):
                lines |= {line.strip() for line in region.splitlines() if len(line.strip()) > 8}
    return lines


CHECKS_DIR = Path(grader.checks.__file__).parent
#: A printed numpy array (its repr), as a judge's expected value would look on a page.
ARRAY = re.compile(r"(?<![\w.])array\(")


def flat(text):
    """``text`` with every run of whitespace made one space."""
    return " ".join(text.split())


def _cells_text(path):
    return flat("\n".join(cell.source for cell in nbformat.read(str(path), as_version=4).cells))


def check_code_lines():
    """Lines of code (not comments, docstrings or message text) of grader/checks/*.py and of every
    assignment's checks, at least 20 characters long without an inline comment: the hidden inputs
    and the judge's logic."""
    from grader import assignments

    lines = set()
    checks = {*CHECKS_DIR.glob("*.py"), *(a.checks_path for a in assignments.ASSIGNMENTS.values() if a.checks_path)}
    for path in sorted(checks):
        text = path.read_text(encoding="utf-8")
        code, comment_at = set(), {}
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NAME, tokenize.NUMBER) or (tok.type == tokenize.OP and tok.string not in "()[],+"):
                code.add(tok.start[0])
            elif tok.type == tokenize.COMMENT:
                comment_at[tok.start[0]] = tok.start[1]
        for row, line in enumerate(text.splitlines(), start=1):
            stripped = line[: comment_at.get(row, len(line))].strip()
            if row in code and len(stripped) >= 20:
                lines.add(stripped)
    return lines


def feedback_secrets():
    """What no student may see: per assignment, the lines of the source notebook's solution and
    hidden-test regions that the released notebook does not show anyway, and the checks' code."""
    checks = check_code_lines()
    secrets = {}
    for name in assignments.ASSIGNMENTS:
        source = nbformat.read(str(assignments.get(name).notebook), as_version=4)
        secrets[name] = {flat(line) for line in solution_and_hidden_lines(source)} | checks
    return secrets


def page_leaks(course_dir, page, secrets):
    """Secrets (and printed arrays) on a feedback page that neither the released notebook nor
    the student's own submission contains (a student's page shows the student's code)."""
    student, name = page.parts[-3], page.parts[-2]
    known = " ".join([
        _cells_text(course_dir / "release" / name / f"{name}.ipynb"),
        _cells_text(course_dir / "submitted" / student / name / f"{name}.ipynb"),
    ])
    raw = page.read_text(encoding="utf-8")
    shown = flat(html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", raw, flags=re.S))))
    shown_tight = flat(html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<style.*?</style>", "", raw, flags=re.S))))
    everything = " | ".join([shown, shown_tight, flat(html.unescape(raw))])  # text, and attributes/scripts
    leaks = sorted(line for line in secrets[name] if line in everything and line not in known)
    if len(ARRAY.findall(shown)) > len(ARRAY.findall(known)):
        leaks.append("a printed array: " + shown[ARRAY.search(shown).start():][:80])
    return leaks


def hostile_cells(nb, tests):
    """Cells a student might add: claimed points, a copied grade_id on a cell of the wrong type,
    hidden-test and solution markers in a new cell and in an answer cell."""
    answer = next(c for c in nb.cells if is_solution(c))
    answer.source += "\n# ### BEGIN HIDDEN TESTS (unbalanced: no end)"
    nb.cells += [
        nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": {
            "grade": True, "solution": False, "locked": True, "points": 1000, "grade_id": "my_bonus",
            "schema_version": 3}}),
        nbformat.v4.new_markdown_cell("I deserve it", metadata={"nbgrader": {
            "grade": True, "solution": False, "locked": False, "points": 50, "grade_id": tests[0], "schema_version": 3}}),
        nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS\n### BEGIN SOLUTION\n"),
        nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade": True, "points": 5}}),
    ]
