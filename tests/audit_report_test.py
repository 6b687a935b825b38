"""Tests for enas_tf.audit_report: ranks, ties, diverged retrains, direction, tau and verdict."""

import itertools
import math

import pytest

from enas_tf import audit_report
from enas_tf.audit_report import ArcOutcome
from enas_tf.search import ranking

NAN = float("nan")


def _arcs(rows):
    """ArcOutcomes from (kind, shared, valid) rows; the test score is the valid one + 1."""
    counts = {}
    out = []
    for kind, shared, valid in rows:
        counts[kind] = counts.get(kind, 0) + 1
        name = "derived" if kind == "derived" else f"{kind}_{counts[kind]}"
        out.append(ArcOutcome(name, kind, shared, valid, valid + 1))
    return out


def _by_name(summary):
    return {arc["name"]: arc for arc in summary["arcs"]}


def test_a_derived_arc_that_wins_and_a_ranking_that_agrees_say_so():
    rows = [("derived", 0.9, 0.8)] + [("random", 0.1 * i, 0.1 * i) for i in range(1, 8)]
    summary = audit_report.summarise(_arcs(rows), higher_is_better=True, metric="accuracy")
    assert summary["derived_rank"] == 1 and summary["num_arcs"] == 8
    assert summary["random"]["beaten"] == 7 and summary["random"]["finite"] == 7
    assert summary["kendall_tau"] == pytest.approx(1.0)
    assert summary["spearman_rho"] == pytest.approx(1.0)
    assert summary["tau_p_value"] == pytest.approx(1 / math.factorial(8))
    assert summary["verdict"] == (
        "audit: the search ranked architectures like training does (tau 1.00 over 8 arcs); "
        "the derived arc beats 7 of 7 random arcs (rank 1 of 8)"
    )
    assert summary["random"]["mean"] == pytest.approx(0.4)
    assert summary["random"]["best"] == pytest.approx(0.7)


def test_a_ranking_against_training_is_reported_as_not_predicting_it():
    rows = [("derived", 0.9, 0.1)] + [("random", 0.1 * i, 1 - 0.1 * i) for i in range(1, 5)]
    summary = audit_report.summarise(_arcs(rows), higher_is_better=True, metric="accuracy")
    assert summary["kendall_tau"] == pytest.approx(-1.0)
    assert summary["derived_rank"] == 5 and summary["random"]["beaten"] == 0
    assert summary["verdict"].startswith(
        "audit: the search's ranking did not predict training (tau -1.00 over 5 arcs); the "
        "derived arc beats 0 of 4 random arcs (rank 5 of 5)"
    )


def test_ties_share_the_better_rank_and_a_tie_is_not_a_win():
    rows = [("derived", 0.5, 0.6), ("random", 0.4, 0.6), ("random", 0.3, 0.5), ("random", 0.2, 0.7)]
    summary = audit_report.summarise(_arcs(rows), higher_is_better=True, metric="accuracy")
    ranks = {name: arc["rank"] for name, arc in _by_name(summary).items()}
    assert ranks == {"derived": 2, "random_1": 2, "random_2": 4, "random_3": 1}
    assert summary["random"]["beaten"] == 1 and summary["random"]["tied"] == 1
    assert "beats 1 of 3 random arcs and ties 1 (rank 2 of 4)" in summary["verdict"]
    # tau-b over the tied scores, as ranking.kendall_tau computes it
    assert summary["kendall_tau"] == pytest.approx(
        ranking.kendall_tau([0.5, 0.4, 0.3, 0.2], [0.6, 0.6, 0.5, 0.7])
    )


def test_a_diverged_retrain_ranks_last_and_stays_out_of_tau_and_the_random_figures():
    rows = [
        ("derived", 0.5, 0.6),
        ("candidate", 0.45, 0.55),
        ("random", 0.4, 0.5),
        ("random", 0.3, NAN),
        ("random", 0.2, 0.4),
    ]
    summary = audit_report.summarise(_arcs(rows), higher_is_better=True, metric="accuracy")
    arcs = _by_name(summary)
    assert arcs["random_2"]["diverged"] and arcs["random_2"]["rank"] == 5
    assert arcs["random_2"]["valid_score"] is None  # JSON has no NaN
    assert summary["diverged"] == 1 and summary["tau_arcs"] == 4
    assert summary["kendall_tau"] == pytest.approx(1.0)
    assert summary["random"] == {
        "count": 3,
        "finite": 2,
        "beaten": 2,
        "tied": 0,
        "mean": pytest.approx(0.45),
        "sd": pytest.approx(math.sqrt(0.005)),
        "best": pytest.approx(0.5),
    }
    assert summary["verdict"].endswith(
        "the derived arc beats 2 of 2 random arcs (rank 1 of 5); 1 of 5 retrains diverged "
        "(ranked last, left out of tau and of the random arcs' figures)"
    )
    assert any("diverged" in line for line in audit_report.table(summary))


def test_a_diverged_derived_arc_ranks_last_and_beats_nothing():
    rows = [("derived", 0.5, math.inf), ("random", 0.4, 0.5), ("random", 0.3, 0.2)]
    summary = audit_report.summarise(_arcs(rows), higher_is_better=True, metric="accuracy")
    assert summary["derived_rank"] == 3 and summary["derived_diverged"]
    assert summary["random"]["beaten"] == 0
    assert "the derived arc's retrain diverged (rank 3 of 3)" in summary["verdict"]


def test_perplexity_ranks_the_lowest_first():
    rows = [("derived", 300.0, 150.0), ("random", 320.0, 180.0), ("random", 310.0, 120.0)]
    summary = audit_report.summarise(_arcs(rows), higher_is_better=False, metric="perplexity")
    ranks = {name: arc["rank"] for name, arc in _by_name(summary).items()}
    assert ranks == {"random_2": 1, "derived": 2, "random_1": 3}
    assert summary["random"]["beaten"] == 1 and summary["random"]["best"] == 120.0
    assert "beats 1 of 2 random arcs (rank 2 of 3)" in summary["verdict"]
    # both scores are perplexities, so agreement is still a positive tau
    assert summary["kendall_tau"] == pytest.approx(
        ranking.kendall_tau([300, 320, 310], [150, 180, 120])
    )
    assert "valid perplexity" in audit_report.table(summary)[1]


def test_a_positive_tau_over_few_arcs_is_not_called_agreement():
    rows = [("derived", 0.3, 0.3), ("random", 0.2, 0.2), ("random", 0.1, 0.1)]
    summary = audit_report.summarise(_arcs(rows), higher_is_better=True, metric="accuracy")
    assert summary["kendall_tau"] == pytest.approx(1.0)
    assert summary["tau_p_value"] == pytest.approx(1 / 6)
    assert (
        "agreed with training's, but not significantly (tau 1.00 over 3 arcs, p 0.17)"
        in (summary["verdict"])
    )


def test_the_p_value_is_the_share_of_orders_at_least_as_concordant():
    for n in (3, 4, 5):
        taus = [
            ranking.kendall_tau(list(range(n)), list(order))
            for order in itertools.permutations(range(n))
        ]
        for tau in sorted(set(taus)):
            share = sum(t >= tau - 1e-12 for t in taus) / len(taus)
            assert audit_report.kendall_tau_p_value(tau, n) == pytest.approx(share), (n, tau)
    assert audit_report.kendall_tau_p_value(0.0, 80) == pytest.approx(0.5)
    assert audit_report.kendall_tau_p_value(0.3, 80) < 0.001
    assert math.isnan(audit_report.kendall_tau_p_value(0.5, 1))


def test_the_picture_is_a_png_even_with_a_diverged_arc():
    rows = [
        ("derived", 0.5, 0.6),
        ("candidate", 0.4, NAN),
        ("random", 0.3, 0.5),
        ("random", 0.2, 0.4),
    ]
    summary = audit_report.summarise(_arcs(rows), higher_is_better=True, metric="accuracy")
    png = audit_report.draw_audit(summary)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
