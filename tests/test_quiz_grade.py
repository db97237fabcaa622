"""Quiz grading: equivalent forms are accepted, named misconceptions are recognised."""

from __future__ import annotations

import pytest

from grader.assignments import builtin
from grader.quiz import quiz_of
from grader.quiz.grade import grade_answer, grade_answers

QUIZ = quiz_of(builtin().assignments["quiz"])
#: The answer names, in grading order (contract: docs/architecture.md, "Quiz answer names").
ANSWER_NAMES = ("forward", "backward", "forward_inverted", "backward_inverted", "O11", "O12", "O21", "O22",
                "Hout", "Wout", "expectation", "variance")
MISCONCEPTIONS = {name: q.misconceptions for name, q in QUIZ.questions.items()}

X11_TERMS = "X11*W11 + X12*W12 + X21*W21 + X22*W22"

# (answer name, an equivalent way a student may write the right answer)
EQUIVALENT = [
    ("forward", "H = D*Y"),
    ("forward", "D ⊙ Y"),
    ("forward", r"H = D \odot Y"),
    ("forward", "Y * D"),
    ("forward", r"\mathbf{H} = \mathbf{D} \odot \mathbf{Y}"),
    ("forward", r"$D \cdot Y$"),
    ("forward", r"D \times Y"),
    ("forward", "DY"),
    ("forward", "D**2 * Y"),  # D is a 0/1 mask
    ("backward", "dLdH * D"),
    ("backward", "dL/dY = dL/dH ⊙ D"),
    ("backward", "∂L/∂Y = ∂L/∂H ⊙ D"),
    ("backward", r"\frac{\partial L}{\partial \mathbf{Y}} = \frac{\partial L}{\partial \mathbf{H}} \odot \mathbf{D}"),
    ("backward", r"D \frac{dL}{dH}"),
    ("backward", "D dLdH"),
    ("forward_inverted", "D*Y/p"),
    ("forward_inverted", "(1/p) * (Y ⊙ D)"),
    ("forward_inverted", r"\frac{1}{p} D \odot Y"),
    ("forward_inverted", r"H = \frac{D \odot Y}{p}"),
    ("forward_inverted", r"\frac12 \cdot \frac{2 D Y}{p}"),
    ("forward_inverted", "p^-1 D Y"),
    ("forward_inverted", "p⁻¹ D Y"),
    ("forward_inverted", r"\dfrac{D}{p} \odot Y"),
    ("forward_inverted", "D*Y*(1 - p)/(p - p^2)"),  # equal as a rational function, not after expand
    ("forward_inverted", "0.5 * D * Y / (0.5 p)"),
    ("backward_inverted", "dLdH * D / p"),
    ("backward_inverted", r"\frac{\partial L}{\partial H} \odot \frac{D}{p}"),
    ("backward_inverted", "dL/dY = dL/dH ⊙ D / p"),
    ("backward_inverted", "∂L/∂H ⊙ D/p"),
    ("backward_inverted", r"\frac{1}{p}\, D \odot \frac{\partial L}{\partial H}"),
    ("O11", X11_TERMS),
    ("O11", r"X_{11}W_{11} + X_{12}W_{12} + X_{21}W_{21} + X_{22}W_{22}"),
    ("O11", "X₁₁W₁₁ + X₁₂W₁₂ + X₂₁W₂₁ + X₂₂W₂₂"),
    ("O11", "W11 X11 + W12 X12 + W21 X21 + W22 X22"),
    ("O11", r"O_{11} = W_{22} X_{22} + W_{21} X_{21} + W_{12} X_{12} + W_{11} X_{11}"),
    ("O11", r"X_{1,1} W_{1,1} + X_{1,2} W_{1,2} + X_{2,1} W_{2,1} + X_{2,2} W_{2,2}"),
    ("O12", "X12 W11 + X13 W12 + X22 W21 + X23 W22"),
    ("O21", "X₂₁*W₁₁ + X₂₂*W₁₂ + X₃₁*W₂₁ + X₃₂*W₂₂"),
    ("O22", r"W_{22} X_{33} + W_{21} X_{32} + W_{12} X_{23} + W_{11} X_{22}"),
    ("Hout", "1 + (H + 2*pad - HH)/stride"),
    ("Hout", "(H - HH + 2 pad)/stride + 1"),
    ("Hout", "1 + (H + 2*pad - HH) // stride"),
    ("Hout", r"\frac{H + 2\,\mathrm{pad} - HH}{\mathrm{stride}} + 1"),
    ("Hout", r"H_{out} = \left\lfloor \frac{H + 2 \cdot pad - HH}{stride} \right\rfloor + 1"),
    ("Hout", "(H + 2pad - HH + stride)/stride"),
    ("Hout", "ceil((H + 2*pad - HH)/stride) + 1"),
    ("Wout", "1 + (W + 2*pad - WW)/stride"),
    ("Wout", "W_out = (W - WW + 2pad)//stride + 1"),
    ("expectation", "Y"),
    ("expectation", "E[H] = Y"),
    ("expectation", r"\mathbb{E}[H] = p \cdot \frac{Y}{p}"),
    ("expectation", "p*Y/p + (1 - p)*0"),
    ("variance", "Y^2 (1 - p)/p"),
    ("variance", "Y^2/p - Y^2"),
    ("variance", "Var[H] = Y²(1−p)/p"),
    ("variance", r"\frac{(1-p) Y^2}{p}"),
    ("variance", r"Y^{2} \left(\frac{1}{p} - 1\right)"),
    ("variance", "p*(Y/p)^2 - Y^2"),
]


@pytest.mark.parametrize("name,answer", EQUIVALENT)
def test_equivalent_forms_get_the_point(name, answer):
    result = grade_answer(QUIZ, name, answer)
    assert (result.status, result.score) == ("passed", 1.0), result.output
    assert result.output.startswith("Right. Understood as")


# (answer name, wrong answer, slug of the misconception that must be named)
WRONG = [
    ("forward", "D*Y/p", "inverted_where_vanilla"),
    ("backward", r"\frac{\partial L}{\partial H} \odot \frac{D}{p}", "inverted_where_vanilla"),
    ("forward", "p D Y", "scaled_by_p"),
    ("forward", "H = Y", "mask_left_out"),
    ("forward_inverted", "Y/p", "mask_left_out"),
    ("backward", "dL/dH", "gradient_not_masked"),
    ("backward_inverted", "dLdH/p", "gradient_not_masked"),
    ("backward", "D ⊙ Y", "forward_not_backward"),
    ("backward_inverted", "D Y / p", "forward_not_backward"),
    ("backward", "dLdH * D * Y", "times_activation"),
    ("backward_inverted", "dLdH D Y / p", "times_activation"),
    ("forward_inverted", r"H = D \odot Y", "vanilla_where_inverted"),
    ("backward_inverted", "dL/dY = dL/dH ⊙ D", "backward_without_scale"),
    ("forward_inverted", "p*D*Y", "scale_p_not_inverse"),
    ("backward_inverted", "p dLdH D", "scale_p_not_inverse"),
    ("forward_inverted", "D*Y/(1 - p)", "drop_probability"),
    ("backward_inverted", "dLdH*D/(1 - p)", "drop_probability"),
    ("variance", "Y^2 p/(1 - p)", "drop_probability"),
    ("O11", "X11*W22 + X12*W21 + X21*W12 + X22*W11", "flipped_filter"),
    ("O22", "X22*W22 + X23*W21 + X32*W12 + X33*W11", "flipped_filter"),
    ("O12", "X12 W11 + X13 W21 + X22 W12 + X23 W22", "transposed_filter"),
    ("O12", "X21*W11 + X22*W12 + X31*W21 + X32*W22", "wrong_position"),
    ("O22", "X22 W11 + X23 W12 + X32 W21", "missing_term"),
    ("O11", "X11 W11 + X12 W21 + X21 W12 + X22 W22", "transposed_filter"),
    ("O11", "X22*W11 + X23*W12 + X32*W21 + X33*W22", "wrong_position"),
    ("O11", r"X_{11}W_{11} + X_{12}W_{12} + X_{21}W_{21}", "missing_term"),
    ("O12", "X12*W22 + X13*W21 + X22*W12 + X23*W11", "flipped_filter"),
    ("O12", "X₁₃W₁₂ + X₂₂W₂₁ + X₂₃W₂₂", "missing_term"),
    ("O21", r"X_{21} W_{22} + X_{22} W_{21} + X_{31} W_{12} + X_{32} W_{11}", "flipped_filter"),
    ("O21", "X21 W11 + X22 W21 + X31 W12 + X32 W22", "transposed_filter"),
    ("O21", "X12*W11 + X13*W12 + X22*W21 + X23*W22", "wrong_position"),
    ("O21", "X21*W11 + X22*W12 + X32*W22", "missing_term"),
    ("O22", "X22 W11 + X23 W21 + X32 W12 + X33 W22", "transposed_filter"),
    ("O22", "O22 = X11 W11 + X12 W12 + X21 W21 + X22 W22", "wrong_position"),
    ("Hout", "1 + (H - HH)/stride", "missing_padding"),
    ("Wout", "1 + (W + pad - WW)/stride", "one_sided_padding"),
    ("Hout", "(H + 2 pad - HH)/stride", "missing_plus_one"),
    ("Hout", "H + 2pad - HH + 1", "stride_left_out"),
    ("Hout", "1 + (W + 2pad - WW)/stride", "height_width_swapped"),
    ("Hout", "(H + pad - HH)/stride + 1", "one_sided_padding"),
    ("Wout", "W_out = (W - WW)/stride + 1", "missing_padding"),
    ("Wout", r"\frac{W + 2\,\mathrm{pad} - WW}{\mathrm{stride}}", "missing_plus_one"),
    ("Wout", "W + 2*pad - WW + 1", "stride_left_out"),
    ("Wout", "1 + (H + 2*pad - HH)//stride", "height_width_swapped"),
    ("expectation", "p Y", "vanilla_expectation"),
    ("expectation", "p", "mask_expectation"),
    ("variance", "p(1 - p)", "mask_variance"),
    ("variance", "Y^2 p (1 - p)", "vanilla_variance"),
    ("variance", "Y^2/p", "second_moment"),
]


def _slug_of(name: str, label: str) -> str:
    return next(m.slug for m in MISCONCEPTIONS[name] if m.label == label)


@pytest.mark.parametrize("name,answer,slug", WRONG)
def test_wrong_form_names_its_misconception(name, answer, slug):
    result = grade_answer(QUIZ, name, answer)
    assert result.status == "failed" and result.score < result.max_score, result.output
    assert result.misconception and _slug_of(name, result.misconception) == slug, result.output
    assert "Not right:" in result.output and result.misconception


def test_every_misconception_has_a_test():
    """Every (answer, misconception) pair the grader registers has a wrong answer in WRONG, for
    that same answer name: a rule can be right for one answer and broken for another."""
    tested = {(name, slug) for name, _, slug in WRONG}
    declared = {(name, m.slug) for name, ms in MISCONCEPTIONS.items() for m in ms}
    assert not declared - tested, f"untested (answer, misconception) pairs: {sorted(declared - tested)}"
    assert not tested - declared, f"WRONG names misconceptions not registered for that answer: {sorted(tested - declared)}"


def test_misconceptions_are_never_the_key():
    import sympy

    keys = QUIZ.keys.values
    for name in QUIZ.names:
        assert len(QUIZ.keys.candidates[name]) == len(MISCONCEPTIONS[name])  # every one could be read
        for misconception, exprs in QUIZ.keys.candidates[name]:
            for expr in exprs:
                assert sympy.simplify(expr - keys[name]) != 0, (name, misconception.slug)


def test_partial_credit_for_a_slip_and_none_for_a_wrong_idea():
    assert grade_answer(QUIZ, "forward_inverted", "D*Y/(1-p)").score == 0.5
    assert grade_answer(QUIZ, "forward_inverted", "p*D*Y").score == 0.0


def test_unrecognised_wrong_answer_fails_without_a_misconception():
    result = grade_answer(QUIZ, "forward", "D + Y")
    assert (result.status, result.score, result.misconception) == ("failed", 0.0, "")
    assert "not equivalent" in result.output


def test_foreign_symbols_are_pointed_out():
    result = grade_answer(QUIZ, "forward_inverted", "D*Y/stride")
    assert result.status == "failed" and "stride" in result.output and "does not involve" in result.output


def test_missing_and_empty_answers():
    results = grade_answers(QUIZ, {"forward": "   "})
    assert len(results) == len(QUIZ.names)
    assert all(r.status == "failed" and r.score == 0 and r.output == "no answer given" for r in results)


def test_result_names_groups_and_order():
    results = grade_answers(QUIZ, {})
    assert QUIZ.names == ANSWER_NAMES
    assert [r.name.split(":")[0] for r in results] == list(ANSWER_NAMES)
    cells = {r.name.split(":")[0]: r.cell for r in results}
    assert cells == {
        "forward": "test_dropout_vanilla", "backward": "test_dropout_vanilla",
        "forward_inverted": "test_dropout_inverted", "backward_inverted": "test_dropout_inverted",
        "O11": "test_conv_outputs", "O12": "test_conv_outputs", "O21": "test_conv_outputs",
        "O22": "test_conv_outputs", "Hout": "test_output_size", "Wout": "test_output_size",
        "expectation": "test_moments", "variance": "test_moments",
    }
    assert all(r.max_score == 1.0 and r.name.split(": ", 1)[1] for r in results)


def test_understood_latex_is_recorded_for_feedback():
    from grader.quiz import understood_expr

    result = grade_answer(QUIZ, "backward_inverted", r"\frac{\partial L}{\partial H} \odot \frac{D}{p}")
    assert result.understood and understood_expr(result.understood) is not None


def test_unknown_answer_names_are_ignored():
    assert len(grade_answers(QUIZ, {"forward": "D*Y", "hack": "x"})) == len(QUIZ.names)
