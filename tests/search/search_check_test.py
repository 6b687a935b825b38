"""Tests for enas_tf.search.check: the policy-vs-random statistics and their summary."""

import math

import numpy as np
import pytest

from enas_tf.search.check import ArcScores, CheckResult, score_arcs


def test_mean_and_standard_error():
    scores = ArcScores((0.1, 0.2, 0.3, 0.4))
    assert scores.mean == pytest.approx(0.25)
    assert scores.se == pytest.approx(np.std([0.1, 0.2, 0.3, 0.4], ddof=1) / 2)


def test_policy_ahead_needs_more_than_two_standard_errors():
    random = ArcScores((0.30, 0.32, 0.34, 0.36))
    ahead = CheckResult("accuracy", True, "1 minibatch", random, ArcScores((0.5, 0.52, 0.54)))
    assert ahead.policy_ahead and ahead.advantage_in_se > 2
    assert "policy ahead by" in ahead.summary() and "vs random 0.330" in ahead.summary()
    close = CheckResult("accuracy", True, "1 minibatch", random, ArcScores((0.33, 0.35, 0.31)))
    assert not close.policy_ahead and "not distinguishable" in close.summary()


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
    assert "policy_mean" not in result.scalars() and "random_mean" in result.scalars()


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
