"""Rank statistics for judging a search: do shared-weight scores order arcs like training does?

Used by the audit (`--mode=audit`) and the weight-sharing bench. Kendall's tau-b and Spearman's
rho are written out here (numpy only): scipy is not a dependency of the package, and the inputs
are a few dozen arcs, so the O(n^2) pair count costs nothing.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b of two score lists; NaN when either list is constant or shorter than 2.

    Ties in one list count as neither concordant nor discordant, and the denominator corrects
    for them (tau-b), so arcs that score exactly alike (a common case for accuracies on a few
    hundred images) do not inflate or deflate the agreement.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"kendall_tau: {a.shape} and {b.shape} scores; need one per arc in both")
    upper = np.triu_indices(len(a), k=1)
    da = np.sign(a[:, None] - a[None, :])[upper]
    db = np.sign(b[:, None] - b[None, :])[upper]
    product = da * db
    untied_a, untied_b = np.count_nonzero(da), np.count_nonzero(db)
    denominator = np.sqrt(float(untied_a) * float(untied_b))
    return float(product.sum() / denominator) if denominator else float("nan")


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their ranks), 0-based."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), float)
    ranks[order] = np.arange(len(values), dtype=float)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def spearman_rho(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (Pearson's on average ranks); NaN if a list is constant."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"spearman_rho: {a.shape} and {b.shape} scores; need one per arc in both")
    ra, rb = _ranks(a), _ranks(b)
    if len(a) < 2 or ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def sharing_report(shared, alone, points, *, chance: float, higher_is_better: bool) -> list[dict]:
    """The weight-sharing diagnosis at every point (see `bench/weight_sharing.py`).

    Args:
      shared: {point: float [arcs, minibatches]} shared-weight scores of the probe arcs.
      alone: [seed][arc] -> {point: whole-split score} of the same arcs trained alone (may be
        empty: then only the shared-side figures are reported).
      points: the child steps measured.
      chance: the score of a uniform guess (accuracy 1 / classes, perplexity = vocabulary).
      higher_is_better: False for perplexity. Perplexity's efficiency is taken on its log
        (the cross-entropy, what training lowers): from a vocabulary of 10,000, perplexity
        300 against 150 alone is 0.93 of the improvement in perplexity but 0.88 of the
        information learned, and the gap widens the nearer chance both are.

    Returns:
      One dict per point: shared and stand-alone means, efficiency, the noise of one minibatch
      score against the spread between arcs, and the rank agreements. The stand-alone figures
      leave out arcs that diverged alone (`alone_diverged` counts them).
    """
    rows = []
    for point in points:
        per_batch = np.asarray(shared[point], float)
        shared_scores = per_batch.mean(axis=1)
        row = {
            "step": int(point),
            "shared_mean": float(shared_scores.mean()),
            "between_arcs_sd": float(shared_scores.std(ddof=1)) if len(shared_scores) > 1 else 0.0,
            "one_minibatch_sd": float(per_batch.std(axis=1, ddof=1).mean())
            if per_batch.shape[1] > 1
            else float("nan"),
        }
        if alone:
            alone_scores = np.array([[arc[point] for arc in seed] for seed in alone], float)
            # An arc that diverged alone (NaN / inf) has no score to agree with: it is left
            # out of the stand-alone mean and of the rank agreements, and counted.
            finite = np.isfinite(alone_scores).all(axis=0)
            row["alone_diverged"] = int((~finite).sum())
            alone_scores, shared_scores = alone_scores[:, finite], shared_scores[finite]
            mean_alone = alone_scores.mean(axis=0)
            row["alone_mean"] = float(mean_alone.mean()) if finite.any() else float("nan")
            row["efficiency"] = _efficiency(  # over the same (finite) arcs on both sides
                float(shared_scores.mean()), row["alone_mean"], chance, higher_is_better
            )
            row["kendall_tau"] = kendall_tau(shared_scores, mean_alone)
            row["spearman_rho"] = spearman_rho(shared_scores, mean_alone)
            if len(alone) > 1:
                row["alone_seed_tau"] = kendall_tau(alone_scores[0], alone_scores[1])
        rows.append(row)
    return rows


def _efficiency(shared: float, alone: float, chance: float, higher_is_better: bool) -> float:
    """The share of the stand-alone gain over chance that the shared weights reach (NaN when
    the arcs alone did not beat chance); lower-is-better scores (perplexity) on their log."""
    if higher_is_better:
        gained_shared, gained_alone = shared - chance, alone - chance
    else:
        gained_shared = np.log(chance) - np.log(shared)
        gained_alone = np.log(chance) - np.log(alone)
    return float(gained_shared / gained_alone) if gained_alone > 0 else float("nan")


def format_sharing_report(rows: list[dict]) -> str:
    """The report as a fixed-width table (missing figures print as '-')."""
    columns = [
        ("step", "step", "{:d}"),
        ("shared_mean", "shared", "{:.3f}"),
        ("alone_mean", "alone", "{:.3f}"),
        ("efficiency", "effic.", "{:.2f}"),
        ("between_arcs_sd", "sd arcs", "{:.3f}"),
        ("one_minibatch_sd", "sd 1 batch", "{:.3f}"),
        ("kendall_tau", "tau", "{:.2f}"),
        ("spearman_rho", "rho", "{:.2f}"),
        ("alone_seed_tau", "tau alone", "{:.2f}"),
    ]
    lines = [" ".join(f"{title:>10s}" for _, title, _ in columns)]
    for row in rows:
        cells = []
        for key, _, fmt in columns:
            value = row.get(key)
            cells.append(f"{fmt.format(value) if value is not None else '-':>10s}")
        lines.append(" ".join(cells))
    return "\n".join(lines)
