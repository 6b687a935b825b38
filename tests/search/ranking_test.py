"""Rank statistics of `enas_tf.search.ranking`, against values counted by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from enas_tf.search import ranking


def test_kendall_tau_of_identical_and_reversed_orders():
    scores = [0.1, 0.4, 0.3, 0.9]
    assert ranking.kendall_tau(scores, scores) == pytest.approx(1.0)
    assert ranking.kendall_tau(scores, [-s for s in scores]) == pytest.approx(-1.0)


def test_kendall_tau_b_corrects_for_ties():
    # 10 pairs: 7 concordant, 1 discordant, one tied only in a (indices 1, 2), one tied only
    # in b (indices 2, 3): tau-b = (7 - 1) / sqrt((10 - 1) * (10 - 1)) = 2/3.
    a, b = [1, 2, 2, 3, 4], [1, 3, 2, 2, 5]
    assert ranking.kendall_tau(a, b) == pytest.approx(2.0 / 3.0)


def test_kendall_tau_is_nan_for_a_constant_list():
    assert math.isnan(ranking.kendall_tau([0.5, 0.5, 0.5], [1, 2, 3]))


def test_spearman_uses_average_ranks():
    # Average ranks: a -> [0, 1.5, 1.5, 3, 4], b -> [0, 3, 1.5, 1.5, 4]; Pearson of those.
    a, b = [1, 2, 2, 3, 4], [1, 3, 2, 2, 5]
    ra, rb = np.array([0, 1.5, 1.5, 3, 4]), np.array([0, 3, 1.5, 1.5, 4])
    assert ranking.spearman_rho(a, b) == pytest.approx(np.corrcoef(ra, rb)[0, 1])
    assert ranking.spearman_rho(a, b) == pytest.approx(0.7631578947)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="one per arc"):
        ranking.kendall_tau([1, 2], [1, 2, 3])


def test_sharing_report_efficiency_and_noise():
    # Two arcs, two minibatches each; chance 0.1. Shared means 0.3 and 0.5 (mean 0.4); alone
    # 0.7 and 0.9 (mean 0.8): efficiency (0.4 - 0.1) / (0.8 - 0.1) = 3/7.
    shared = {10: [[0.2, 0.4], [0.5, 0.5]]}
    alone = [[{10: 0.7}, {10: 0.9}], [{10: 0.75}, {10: 0.85}]]
    (row,) = ranking.sharing_report(shared, alone, [10], chance=0.1, higher_is_better=True)
    assert row["shared_mean"] == pytest.approx(0.4)
    assert row["alone_mean"] == pytest.approx(0.8)
    assert row["efficiency"] == pytest.approx(3.0 / 7.0)
    assert row["one_minibatch_sd"] == pytest.approx(np.mean([np.std([0.2, 0.4], ddof=1), 0.0]))
    assert row["kendall_tau"] == pytest.approx(1.0)
    assert row["alone_seed_tau"] == pytest.approx(1.0)
    assert "0.43" in ranking.format_sharing_report([row]).splitlines()[1].split()


def test_sharing_report_for_perplexity_counts_improvement_downwards_in_log_space():
    # Chance perplexity 100; alone 10 (log gain 2 decades), shared 31.6 (one decade): 0.5 of
    # the cross-entropy learned, where raw perplexities would give (100 - 31.6) / 90 = 0.76.
    shared = {5: [[10**1.5], [10**1.5]]}
    alone = [[{5: 10.0}, {5: 10.0}]]
    (row,) = ranking.sharing_report(shared, alone, [5], chance=100.0, higher_is_better=False)
    assert row["efficiency"] == pytest.approx(0.5)
    worse = {5: [[150.0], [150.0]]}  # worse than chance: a negative share, not a positive one
    (row,) = ranking.sharing_report(worse, alone, [5], chance=100.0, higher_is_better=False)
    assert row["efficiency"] < 0


def test_an_arc_that_diverged_alone_is_left_out_of_the_stand_alone_figures():
    shared = {5: [[60.0], [50.0], [40.0]]}
    alone = [[{5: 30.0}, {5: float("inf")}, {5: 20.0}]]
    (row,) = ranking.sharing_report(shared, alone, [5], chance=100.0, higher_is_better=False)
    assert row["alone_diverged"] == 1
    assert row["alone_mean"] == pytest.approx(25.0)
    assert row["kendall_tau"] == pytest.approx(1.0)  # over the two finite arcs
