"""A layer's declaration (:class:`Layer`) and its configurations (:class:`Case`).

A :class:`Layer` says what students implement: the forward and backward function names, the
arrays the forward pass takes and their shapes (in terms of a case's dimensions), the parameter
dict, the output-shape rule and a trusted reference forward pass. From it the check blocks of
:mod:`grader.layercheck.blocks` build calls, validate replies and word student-facing messages;
hand-written checks use the same helpers (:meth:`Layer.draw`, :meth:`Layer.forward_call`,
:meth:`Layer.forward_then_backward`, ...).
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from grader.checks.base import CheckFailed, Steps, value_in_case
from grader.masking import axes_shown, difference_shown
from grader.plain import describe as describe_value
from grader.student import Call, Handle, Reply, StudentError


class Case:
    """One configuration of a layer: named dimensions and parameters (``case.H``, ``case["H"]``)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def as_dict(self) -> dict[str, Any]:
        """The case's values by name."""
        return dict(self._values)

    def __repr__(self) -> str:
        return "Case(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"


def _evaluate(rule: str, case: Case) -> int:
    # rules are the instructor's trusted text over the case's names, e.g. "1 + (H - pool_height) // stride"
    return int(eval(rule, {"__builtins__": {}}, case.as_dict()))  # noqa: S307


class Layer:
    """A layer students implement as ``forward(*inputs, param) -> (out, cache)`` and
    ``backward(dout, cache) -> grad`` (or a tuple of grads).

    - ``forward``, ``backward``: the function names.
    - ``dims``: the names of a case's values, in the order :meth:`cases` takes them.
    - ``inputs``: each input array's shape as space-separated rules, e.g. ``{"x": "N C H W"}``.
    - ``param``: ``(name, keys)``: the dict argument's name and the case values it holds.
    - ``out_shape``: output axis name -> rule, e.g. ``{"Lout": "1 + (L - kernel) // stride"}``.
    - ``reference``: trusted ``reference(*inputs, param) -> out`` (checks derive gradients from it).
    - ``grads``: gradient name -> input name, in the order ``backward`` returns them.
    - ``draw``: ``draw(rng, case) -> {input name: array}`` (default: standard normal entries).
    - ``describe``: a format string over the case, shown to students, e.g. ``"stride {stride}"``.
    - ``gradient``: optional trusted ``gradient(dout, *inputs, param) -> grads`` (in ``grads``
      order); gradient checks then use it instead of central differences of ``reference``, which
      cost two reference calls per input entry (test that the two agree).
    - ``step``, ``grad_rtol``: central-difference step and tolerance for gradient checks.
    """

    def __init__(
        self, *, forward: str, backward: str, dims: Iterable[str], inputs: Mapping[str, str],
        param: tuple[str, Iterable[str]], out_shape: Mapping[str, str], reference: Callable[..., np.ndarray],
        grads: Mapping[str, str] | None = None, draw: Callable[[np.random.Generator, Case], dict] | None = None,
        describe: str = "", rtol: float = 1e-6, step: float = 1e-3, grad_rtol: float = 1e-6,
        gradient: Callable[..., tuple] | None = None,
    ) -> None:
        self.forward, self.backward = forward, backward
        self.dims = tuple(dims)
        self.inputs = {name: tuple(rule.split()) for name, rule in inputs.items()}
        self.param_name, self.param_keys = param[0], tuple(param[1])
        self.out_shape_rules = dict(out_shape)
        self.reference = reference
        self.grads = dict(grads) if grads is not None else {f"d{n}": n for n in self.inputs}
        self._draw = draw
        self.description = describe
        self.rtol, self.step, self.grad_rtol = rtol, step, grad_rtol
        self.gradient = gradient

    # ------------------------------------------------------------------ cases and inputs

    def cases(self, *rows: tuple) -> tuple[Case, ...]:
        """Cases from tuples of values in the order of ``dims``."""
        for row in rows:
            if len(row) != len(self.dims):
                raise ValueError(f"a case needs {len(self.dims)} values ({', '.join(self.dims)}), got {row}")
        return tuple(Case(dict(zip(self.dims, row))) for row in rows)

    def grid(self, where: str = "True", **axes: Iterable) -> tuple[Case, ...]:
        """Every combination of the given values (each dim in ``dims`` once) that satisfies ``where``."""
        missing = set(self.dims) - set(axes)
        if missing:
            raise ValueError(f"grid needs values for {', '.join(sorted(missing))}")
        rows = [dict(zip(self.dims, values)) for values in itertools.product(*(axes[d] for d in self.dims))]
        cases = [Case(r) for r in rows]
        return tuple(c for c in cases if eval(where, {"__builtins__": {}}, c.as_dict())
                     and all(n > 0 for n in self.out_shape(c)))

    def shape(self, name: str, case: Case) -> tuple[int, ...]:
        """The shape of input ``name`` in ``case``."""
        return tuple(_evaluate(rule, case) for rule in self.inputs[name])

    def out_shape(self, case: Case) -> tuple[int, ...]:
        """The correct output shape in ``case``."""
        return tuple(_evaluate(rule, case) for rule in self.out_shape_rules.values())

    def param(self, case: Case) -> dict[str, Any]:
        """A fresh parameter dict for ``case``."""
        return {k: case[k] for k in self.param_keys}

    def draw(self, rng: np.random.Generator, case: Case, how: Callable | None = None) -> tuple:
        """Fresh arguments ``(*inputs, param)`` of the forward pass; ``how(rng, case)`` overrides the layer's draw."""
        draw = how or self._draw
        arrays = draw(rng, case) if draw else {n: rng.standard_normal(self.shape(n, case)) for n in self.inputs}
        return (*(np.asarray(arrays[n], dtype=np.float64) for n in self.inputs), self.param(case))

    def expected(self, args: tuple, forward: Callable[..., np.ndarray] | None = None) -> np.ndarray:
        """The reference output for forward arguments ``args`` (or ``forward``'s: another trusted
        function of the same arguments, e.g. a usual mistake), computed on copies."""
        return np.asarray((forward or self.reference)(*[a.copy() if isinstance(a, np.ndarray) else dict(a) for a in args]))

    def describe(self, case: Case) -> str:
        """Student-facing words for the configuration (kinds of input, never the data)."""
        return f"({self.description.format(**case.as_dict())})" if self.description else ""

    # ------------------------------------------------------------------ calls and replies

    def forward_call(self, args: tuple, cache: bool = False, echo: bool = False) -> Call:
        """The forward pass on ``args``; with ``cache`` its cache stays with the student as a Handle."""
        return Call(self.forward, tuple(args), keep=(1,) if cache else (), drop=() if cache else (1,), echo=echo)

    def value(self, reply: Reply | Any, case: Case | None = None, hint: str = "") -> Any:
        """The value of a reply (or the value itself); the student's error is raised, ending with
        the case's description (and ``hint``, what is special about the case) when ``case`` is given."""
        if not isinstance(reply, Reply):
            return reply
        where = self.describe(case) if case is not None else ""
        return value_in_case(reply, where, hint) if where or hint else reply.get()

    def forward_value(self, reply: Reply | Any, case: Case | None = None, hint: str = "") -> np.ndarray:
        """``out`` of a forward reply (or of its value): raises the student's error (naming
        ``case``, see :meth:`value`), or :class:`CheckFailed` unless the reply is ``(array, cache)``."""
        value = self.value(reply, case, hint)
        if type(value) not in (tuple, list) or len(value) != 2:
            raise CheckFailed(f"{self.forward} should return (out, cache), got {_kind(value)}")
        out = value[0]
        if not isinstance(out, np.ndarray):
            raise CheckFailed(f"{self.forward} returned a {describe_value(out)} as out, expected a numpy array")
        return out

    def forward_out(self, reply: Reply | Any, case: Case, finite: bool = True, hint: str = "") -> np.ndarray:
        """``out`` of a forward reply, checked to have the rule's shape (and finite numbers)."""
        out = self.forward_value(reply, case, hint)
        self.check_out_shape(out, case)
        if finite and (out.dtype.kind not in "biuf" or not np.all(np.isfinite(out))):
            raise CheckFailed(f"{self.forward} returned NaN, infinite or non-numeric values in out {self.describe(case)}")
        return out

    def check_out_shape(self, out: np.ndarray, case: Case) -> None:
        """Raise a per-axis diagnosis if ``out`` does not have the rule's shape."""
        expected = self.out_shape(case)
        if out.shape == expected:
            return
        axes = list(self.out_shape_rules)
        layout = f"({', '.join(axes)})"
        if out.ndim != len(expected):
            raise CheckFailed(f"{self.forward} returned out with {axes_shown(out.ndim)} dimensions {self.describe(case)}; expected {len(expected)}: {layout}")
        problems = []
        for axis, (label, got, want) in enumerate(zip(axes, out.shape, expected)):
            if got != want:
                problems.append(f"axis {axis} ({label}) is {difference_shown(got - want, expected)} too "
                                f"{'large' if got > want else 'small'}")
        rules = "; ".join(f"{k} = {v}" for k, v in self.out_shape_rules.items() if k != v)
        raise CheckFailed(f"{self.forward} output has the wrong shape {self.describe(case)}: {'; '.join(problems)}. "
                          f"Expected {layout} with {rules} (// is integer division).")

    def backward_call(self, dout: np.ndarray, handle: Handle) -> Call:
        """The backward pass for ``dout`` and the cache Handle of an earlier forward call."""
        return Call(self.backward, (dout, handle))

    def backward_grads(self, reply: Reply, case: Case | None = None) -> dict[str, np.ndarray]:
        """The gradients of a backward reply by name (one array, or a tuple in ``grads`` order)."""
        value = self.value(reply, case)
        names = list(self.grads)
        if len(names) == 1:
            value = (value,)
        elif type(value) not in (tuple, list) or len(value) != len(names):
            raise CheckFailed(f"{self.backward} should return ({', '.join(names)}), got {_kind(value)}")
        for name, grad in zip(names, value):
            if not isinstance(grad, np.ndarray):
                raise CheckFailed(f"{self.backward} returned a {describe_value(grad)} as {name}, expected a numpy array")
        return dict(zip(names, value))

    def draw_dout(self, rng: np.random.Generator, case: Case) -> np.ndarray:
        """An upstream gradient with every |entry| in [1, 2] (random signs): no entry is near 0,
        so a lost or doubled contribution always shows, on every run."""
        shape = self.out_shape(case)
        return rng.uniform(1.0, 2.0, shape) * rng.choice((-1.0, 1.0), shape)

    def forward_then_backward(self, inputs: list[tuple], douts: list[np.ndarray]) -> Steps:
        """Forward calls for every case in one yield, backward calls in a second; returns both
        reply lists (backward ones only up to the first unusable forward reply)."""
        forwards = yield [self.forward_call(args, cache=True) for args in inputs]
        handles = []
        for reply in forwards:
            try:
                self.forward_value(reply)
            except (CheckFailed, StudentError):
                break
            handles.append(reply.value[1])
        backwards = (yield [self.backward_call(d, h) for d, h in zip(douts, handles)]) if handles else []
        return forwards, backwards


def _kind(value: Any) -> str:
    if type(value) in (tuple, list):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {describe_value(value)}"

