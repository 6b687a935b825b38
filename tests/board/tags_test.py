"""Tests for enas_tf.board.tags: the check's scalars and the custom-scalars layout."""

import pytest

from enas_tf.board import tags
from enas_tf.search.check import ArcScores, CheckResult


def _result(policy=True, initial=True):
    return CheckResult(
        "accuracy",
        True,
        "1 minibatch",
        ArcScores((0.30, 0.34, 0.32)),
        policy=ArcScores((0.50, 0.54, 0.52)) if policy else None,
        initial=ArcScores((0.40, 0.44, 0.42)) if initial else None,
    )


def test_a_check_gives_each_group_a_band_of_one_standard_error_and_named_z_scores():
    result = _result()
    values = tags.check_scalars(result)
    se = result.policy.se
    assert values["search/check/policy_accuracy"] == pytest.approx(0.52)
    assert values["search/check/policy_accuracy_lower"] == pytest.approx(0.52 - se)
    assert values["search/check/policy_accuracy_upper"] == pytest.approx(0.52 + se)
    assert values["search/check/random_accuracy"] == pytest.approx(0.32)
    assert values["search/check/initial_accuracy"] == pytest.approx(0.42)
    assert values["search/check/policy_vs_random_z"] == pytest.approx(result.advantage_in_se)
    assert values["search/check/policy_vs_initial_z"] == pytest.approx(
        result.advantage_over_initial_in_se
    )
    assert len(values) == 11  # 3 groups x (mean, lower, upper) + 2 z-scores; no copies


def test_a_random_search_check_has_the_uniform_arcs_only():
    values = tags.check_scalars(_result(policy=False, initial=False))
    assert set(values) == {
        "search/check/random_accuracy",
        "search/check/random_accuracy_lower",
        "search/check/random_accuracy_upper",
    }


def test_the_layout_charts_what_a_researcher_compares():
    layout = tags.layout("accuracy")
    charts = {chart.title: chart for category in layout.category for chart in category.chart}
    reward = charts["controller reward and its baseline"].multiline.tag
    assert list(reward) == [r"^search/controller/reward$", r"^search/controller/baseline$"]
    check = next(c for title, c in charts.items() if title.startswith("check: policy vs random"))
    assert [s.value for s in check.margin.series] == [
        "search/check/policy_accuracy",
        "search/check/random_accuracy",
        "search/check/initial_accuracy",
    ]
    assert all(
        s.lower.endswith("_lower") and s.upper.endswith("_upper") for s in check.margin.series
    )
    entropy = charts["controller entropy vs the uniform policy's"].multiline.tag
    assert rf"^{tags.UNIFORM_ENTROPY}$" in entropy
    # One layout per task: TensorBoard merges the runs' layouts and drops identical charts.
    assert tags.layout("accuracy") == layout
    assert tags.layout("perplexity") != layout
