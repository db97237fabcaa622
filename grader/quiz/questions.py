"""What each quiz answer is: its title, nbgrader cell, symbols and how its variables range."""

from __future__ import annotations

from dataclasses import dataclass

CONV_INPUTS = tuple(f"X{i}{j}" for i in (1, 2, 3) for j in (1, 2, 3))
CONV_FILTER = tuple(f"W{i}{j}" for i in (1, 2) for j in (1, 2))


@dataclass(frozen=True)
class Question:
    """One quiz answer.

    - name: the answer name (``forward``, ``O11``, ...).
    - title: what it is, for the result name ``"<name>: <title>"``.
    - cell: the nbgrader autograder cell its point belongs to.
    - symbols: the symbols the question is stated in.
    - domain: how equivalence samples the variables: ``"real"`` (free variables, the mask ``D``
      takes 0 and 1) or ``"height"``/``"width"`` (integer sizes where the stride divides evenly).
    """

    name: str
    title: str
    cell: str
    symbols: tuple[str, ...]
    domain: str = "real"


QUESTIONS: dict[str, Question] = {
    q.name: q
    for q in (
        Question("forward", "dropout forward pass, H = D ⊙ Y as defined in the lecture",
                 "test_dropout_vanilla", ("D", "Y", "p")),
        Question("backward", "dropout backward pass, dL/dY", "test_dropout_vanilla", ("dLdH", "D", "Y", "p")),
        Question("forward_inverted", "inverted dropout forward pass", "test_dropout_inverted", ("D", "Y", "p")),
        Question("backward_inverted", "inverted dropout backward pass, dL/dY", "test_dropout_inverted",
                 ("dLdH", "D", "Y", "p")),
        Question("O11", "output at row 1, column 1", "test_conv_outputs", CONV_INPUTS + CONV_FILTER),
        Question("O12", "output at row 1, column 2", "test_conv_outputs", CONV_INPUTS + CONV_FILTER),
        Question("O21", "output at row 2, column 1", "test_conv_outputs", CONV_INPUTS + CONV_FILTER),
        Question("O22", "output at row 2, column 2", "test_conv_outputs", CONV_INPUTS + CONV_FILTER),
        Question("Hout", "output height", "test_output_size", ("H", "HH", "pad", "stride"), "height"),
        Question("Wout", "output width", "test_output_size", ("W", "WW", "pad", "stride"), "width"),
        Question("expectation", "expectation E[H] of inverted dropout", "test_moments", ("Y", "p")),
        Question("variance", "variance Var[H] of inverted dropout", "test_moments", ("Y", "p")),
    )
}

#: Every symbol the quiz knows; anything else in an answer is not understood.
ALL_SYMBOLS: tuple[str, ...] = tuple(sorted({s for q in QUESTIONS.values() for s in q.symbols}))

#: Each answer's symbols (all the student-side preview needs to know about the questions).
SYMBOLS_OF: dict[str, tuple[str, ...]] = {q.name: q.symbols for q in QUESTIONS.values()}
