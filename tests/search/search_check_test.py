"""Tests for enas_tf.search.check: the policy vs random and initial-policy statistics, summary."""

import math

import numpy as np
import pytest

from enas_tf.board import tags
from enas_tf.search.check import ArcScores, CheckResult, score_arcs


def test_mean_and_standard_error():
    scores = ArcScores((0.1, 0.2, 0.3, 0.4))
    assert scores.mean == pytest.approx(0.25)
    assert scores.se == pytest.approx(np.std([0.1, 0.2, 0.3, 0.4], ddof=1) / 2)


def test_policy_ahead_needs_more_than_two_standard_errors():
    random = ArcScores((0.30, 0.32, 0.34, 0.36))
    ahead = CheckResult("accuracy", True, "1 minibatch", random, ArcScores((0.5, 0.52, 0.54)))
    assert ahead.policy_ahead and ahead.advantage_in_se > 2
    assert "ahead of random by" in ahead.summary() and "vs random 0.330" in ahead.summary()
    close = CheckResult("accuracy", True, "1 minibatch", random, ArcScores((0.33, 0.35, 0.31)))
    assert not close.policy_ahead and "level with random (" in close.summary()


def test_lower_is_better_for_perplexity():
    random = ArcScores((300.0, 320.0, 310.0))
    better = CheckResult("perplexity", False, "1 window", random, ArcScores((200.0, 210.0, 205.0)))
    assert better.policy_ahead
    worse = CheckResult("perplexity", False, "1 window", random, ArcScores((400.0, 410.0, 420.0)))
    assert worse.advantage_in_se < -2 and "BEHIND" in worse.summary()


def test_random_only_check_has_no_verdict_and_serialises():
    result = CheckResult("accuracy", True, "1 minibatch", ArcScores((0.1, 0.2)))
    assert not result.policy_ahead and math.isnan(result.advantage_in_se)
    data = result.to_json()
    assert data["policy"] is None and data["random"]["scores"] == [0.1, 0.2]
    scalars = tags.check_scalars(result)
    assert "search/check/policy_accuracy" not in scalars
    assert "search/check/random_accuracy" in scalars


def test_score_arcs_averages_each_arc_over_the_same_batches():
    seen = []

    def evaluate(batch, tokens):
        seen.append((batch, tokens))
        return batch * tokens

    scores = score_arcs(evaluate, [1.0, 3.0], [1.0, 10.0])
    assert scores.scores == (2.0, 20.0)
    assert seen == [(1.0, 1.0), (3.0, 1.0), (1.0, 10.0), (3.0, 10.0)]


def test_children_are_compared_with_chance_in_the_right_direction():
    random = ArcScores((0.20, 0.22, 0.24))
    accuracy = CheckResult(
        "accuracy", True, "1 minibatch", random, ArcScores((0.4, 0.42, 0.44)), chance=0.1
    )
    assert accuracy.children_vs_chance() == (
        "sampled children's valid accuracy 0.420 = 4.2x chance (0.100)"
    )
    assert accuracy.to_json()["chance"] == 0.1
    perplexity = CheckResult(
        "perplexity", False, "1 window", ArcScores((500.0, 520.0)), chance=10000.0
    )
    assert perplexity.children_vs_chance() == (
        "random arcs' valid perplexity 510.0 = 19.6x better than chance (10000.0)"
    )
    assert CheckResult("accuracy", True, "1 minibatch", random).children_vs_chance() == ""


# The initial-policy comparison (issue #24): random 0.30-0.36 (mean 0.33, se 0.013).
_RANDOM = ArcScores((0.30, 0.32, 0.34, 0.36))


def _with_initial(policy, initial, higher_is_better=True, random=_RANDOM):
    metric = "accuracy" if higher_is_better else "perplexity"
    return CheckResult(metric, higher_is_better, "1 minibatch", random, policy, initial=initial)


def test_ahead_of_random_and_of_the_initial_policy_is_learning():
    result = _with_initial(ArcScores((0.50, 0.52, 0.54)), ArcScores((0.33, 0.35, 0.37, 0.39)))
    assert result.policy_ahead and result.ahead_of_initial
    z_random, z_initial = result.advantage_in_se, result.advantage_over_initial_in_se
    assert result.verdict() == (
        f"ahead of random by {z_random:.1f} SE and of its initial policy by {z_initial:.1f} SE: "
        "learned"
    )
    assert "vs random 0.330 +- 0.013 vs initial policy 0.360 +- 0.013 valid accuracy (4 arcs" in (
        result.summary()
    )


def test_ahead_of_random_only_is_the_controllers_prior():
    # The untrained policy already prefers good arcs (a built-in prior): as good as now.
    result = _with_initial(ArcScores((0.50, 0.52, 0.54)), ArcScores((0.49, 0.51, 0.53, 0.55)))
    assert result.policy_ahead and not result.ahead_of_initial
    z_initial = result.advantage_over_initial_in_se
    assert result.verdict() == (
        f"ahead of random by {result.advantage_in_se:.1f} SE, level with its initial policy "
        f"({z_initial:+.1f} SE): the advantage is the controller's prior, not learning"
    )


def test_level_with_both_is_no_sign_of_learning():
    result = _with_initial(ArcScores((0.33, 0.35, 0.31)), ArcScores((0.32, 0.34, 0.36, 0.30)))
    assert not result.policy_ahead and not result.ahead_of_initial
    assert result.verdict().startswith("level with random (")
    assert ", level with its initial policy (" in result.verdict()
    assert result.verdict().endswith(": no sign of learning")


def test_behind_both_says_so_in_capitals():
    result = _with_initial(ArcScores((0.10, 0.12, 0.14)), ArcScores((0.33, 0.35, 0.37, 0.39)))
    assert result.advantage_in_se < -2 and result.advantage_over_initial_in_se < -2
    assert result.verdict() == (
        f"BEHIND random by {-result.advantage_in_se:.1f} SE, BEHIND its initial policy by "
        f"{-result.advantage_over_initial_in_se:.1f} SE: no sign of learning"
    )


def test_ahead_of_a_poor_initial_policy_but_not_of_random_is_learning_not_yet_ahead():
    result = _with_initial(ArcScores((0.33, 0.35, 0.37)), ArcScores((0.10, 0.12, 0.14, 0.16)))
    assert result.ahead_of_initial and not result.policy_ahead
    assert result.verdict().endswith(": learning, not yet ahead of random")


def test_the_initial_comparison_is_lower_is_better_for_perplexity():
    random = ArcScores((300.0, 320.0, 310.0))
    policy = ArcScores((200.0, 210.0, 205.0))
    prior = _with_initial(policy, ArcScores((201.0, 211.0, 206.0)), False, random)
    assert prior.policy_ahead and not prior.ahead_of_initial
    assert prior.verdict().endswith("the advantage is the controller's prior, not learning")
    learned = _with_initial(policy, ArcScores((290.0, 300.0, 295.0)), False, random)
    assert learned.ahead_of_initial and learned.verdict().endswith(": learned")
    assert "vs initial policy 295.0 +- 2.9 valid perplexity" in learned.summary()


def test_the_initial_comparison_goes_to_json_and_tensorboard():
    result = _with_initial(ArcScores((0.50, 0.52, 0.54)), ArcScores((0.49, 0.51, 0.53, 0.55)))
    data = result.to_json()
    assert data["initial"]["scores"] == [0.49, 0.51, 0.53, 0.55]
    assert data["policy_minus_initial_in_se"] == pytest.approx(result.advantage_over_initial_in_se)
    assert data["policy_ahead"] and not data["policy_ahead_of_initial"]
    assert data["summary"] == result.summary()
    scalars = tags.check_scalars(result)
    assert scalars["search/check/initial_accuracy"] == pytest.approx(0.52)
    assert scalars["search/check/initial_accuracy_upper"] == pytest.approx(0.52 + result.initial.se)
    assert scalars["search/check/policy_vs_initial_z"] == result.advantage_over_initial_in_se


def test_without_the_initial_policy_the_check_does_not_claim_learning():
    # A run resumed from a checkpoint written before the snapshot was kept.
    result = _with_initial(ArcScores((0.50, 0.52, 0.54)), None)
    assert result.policy_ahead and math.isnan(result.advantage_over_initial_in_se)
    assert result.verdict().endswith("(initial policy unknown: learning or prior)")
    assert "initial policy 0" not in result.summary()
    assert "search/check/initial_accuracy" not in tags.check_scalars(result)
    assert result.to_json()["initial"] is None
