"""The audit's arithmetic, its one-line verdict and its picture (`enas_tf.audit` retrains).

Given every audited arc's shared-weight score (what the search ranked it by) and its scores
after being retrained alone, this says two things a user can act on:

* **Did the search's ranking predict training?** Kendall's tau (and Spearman's rho, from
  `enas_tf.search.ranking`) between shared-weight and retrained scores over all arcs. Weight
  sharing is known to rank architectures poorly (Sciuto et al. 2019, "Evaluating the Search
  Phase of Neural Architecture Search"); a search whose scores do not order arcs like training
  does is optimising the wrong target, whatever its in-run check says. "Ranked like training"
  needs tau > 0 at a one-sided p < 0.05 against independent rankings (exact for n <= 50 arcs,
  from the distribution of inversions; ties make it approximate).
* **Did the derived arc beat random ones?** Its rank among all retrained arcs and how many of
  the random arcs it beats.

Rules: arcs are ranked by their retrained VALIDATION score, so that the test split plays no
part in choosing between them (the test score is reported beside it). Ties share the better
rank (1 + the number of arcs strictly better) and a tie with a random arc is not a win. The
direction comes from the task (`higher_is_better`: accuracy up, perplexity down). A retrain
that diverged (non-finite valid score) ranks last, is left out of tau, rho and the random arcs'
mean, sd and best, and is counted in the verdict. Plain numpy (the rank correlations are
`enas_tf.search.ranking`'s); nothing here trains or scores. The picture (`draw_audit`) is drawn
on matplotlib's Agg canvas like `enas_tf.pictures`' (no pyplot, no global backend state), with
matplotlib imported when drawing.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np

from enas_tf.search import ranking

_SIGNIFICANT_P = 0.05
_EXACT_P_UP_TO = 50  # arcs; beyond, tau's normal approximation is as good


@dataclasses.dataclass(frozen=True)
class ArcOutcome:
    """One audited arc: its kind ("derived", "candidate", "random") and its three scores."""

    name: str
    kind: str
    shared: float
    valid: float
    test: float


def kendall_tau_p_value(tau: float, n: int) -> float:
    """P(tau >= `tau`) for two independent rankings of `n` arcs without ties (one-sided).

    Exact for n <= 50: without ties tau = 1 - 4 I / (n (n - 1)) for I discordant pairs, and the
    distribution of I over the n! equally likely orders is built one arc at a time (adding the
    m-th arc adds 0..m-1 inversions, uniformly). Beyond, the normal approximation of tau's null
    distribution (variance 2 (2n + 5) / (9 n (n - 1))).
    """
    if n < 2 or not math.isfinite(tau):
        return float("nan")
    pairs = n * (n - 1) / 2
    if n > _EXACT_P_UP_TO:
        z = tau / math.sqrt(2 * (2 * n + 5) / (9 * n * (n - 1)))
        return 0.5 * math.erfc(z / math.sqrt(2))
    probabilities = np.ones(1)
    for m in range(2, n + 1):
        probabilities = np.convolve(probabilities, np.full(m, 1.0 / m))
    inversions = (1.0 - tau) * pairs / 2  # the observed discordant pairs
    return float(min(1.0, probabilities[: int(math.floor(inversions + 1e-9)) + 1].sum()))


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


def summarise(outcomes: Sequence[ArcOutcome], *, higher_is_better: bool, metric: str) -> dict:
    """Ranks, the random arcs' statistics, tau, rho and the verdict of one audit.

    Args:
      outcomes: every audited arc, the derived one first (exactly one of kind "derived").
      higher_is_better: the task's direction (False for perplexity).
      metric: the task's score name, for the text ("accuracy", "perplexity").

    Returns:
      A JSON-ready dict: `arcs` (per arc: scores, rank, diverged), `derived_rank`, `num_arcs`,
      `diverged`, `random` (finite count, beaten, tied, mean, sd, best), `kendall_tau`,
      `spearman_rho`, `tau_arcs`, `tau_p_value`, `verdict`. Non-finite numbers become None.
    """
    sign = 1.0 if higher_is_better else -1.0
    finite = [_finite(o.valid) for o in outcomes]
    keys = [sign * o.valid if ok else -math.inf for o, ok in zip(outcomes, finite, strict=True)]
    num_finite = sum(finite)
    ranks = [
        1 + sum(other > key for other, ok in zip(keys, finite, strict=True) if ok)
        if is_finite
        else num_finite + 1
        for key, is_finite in zip(keys, finite, strict=True)
    ]
    derived = next(i for i, o in enumerate(outcomes) if o.kind == "derived")
    random = [i for i, o in enumerate(outcomes) if o.kind == "random" and finite[i]]
    scores = np.array([outcomes[i].valid for i in random], float)
    best = (scores.max() if higher_is_better else scores.min()) if len(random) else math.nan
    together = [i for i, o in enumerate(outcomes) if finite[i] and _finite(o.shared)]
    shared = [outcomes[i].shared for i in together]
    retrained = [outcomes[i].valid for i in together]
    tau = ranking.kendall_tau(shared, retrained) if len(together) >= 2 else math.nan
    rho = ranking.spearman_rho(shared, retrained) if len(together) >= 2 else math.nan
    summary = {
        "metric": metric,
        "higher_is_better": higher_is_better,
        "ranked_by": f"retrained valid {metric}",
        "arcs": [
            {
                "name": o.name,
                "kind": o.kind,
                "shared_score": _json_number(o.shared),
                "valid_score": _json_number(o.valid),
                "test_score": _json_number(o.test),
                "rank": rank,
                "diverged": not ok,
            }
            for o, rank, ok in zip(outcomes, ranks, finite, strict=True)
        ],
        "num_arcs": len(outcomes),
        "diverged": len(outcomes) - num_finite,
        "derived_rank": ranks[derived],
        "derived_diverged": not finite[derived],
        "random": {
            "count": sum(o.kind == "random" for o in outcomes),
            "finite": len(random),
            "beaten": sum(keys[derived] > keys[i] for i in random) if finite[derived] else 0,
            "tied": sum(keys[derived] == keys[i] for i in random) if finite[derived] else 0,
            "mean": _json_number(scores.mean() if len(random) else math.nan),
            "sd": _json_number(scores.std(ddof=1) if len(random) > 1 else math.nan),
            "best": _json_number(best),
        },
        "kendall_tau": _json_number(tau),
        "spearman_rho": _json_number(rho),
        "tau_arcs": len(together),
        "tau_p_value": _json_number(kendall_tau_p_value(tau, len(together))),
    }
    summary["verdict"] = verdict(summary)
    return summary


def _json_number(value) -> float | None:
    """A float for JSON, None when not finite (JSON has no NaN; a reader sees "no value")."""
    return float(value) if _finite(value) else None


def verdict(summary: dict) -> str:
    """One line: did shared-weight scores rank arcs like training, did derived beat random."""
    tau, p, n = summary["kendall_tau"], summary["tau_p_value"], summary["tau_arcs"]
    if tau is None:
        ranking_text = f"the search's ranking could not be compared with training ({n} arcs)"
    elif tau > 0 and p is not None and p < _SIGNIFICANT_P:
        ranking_text = (
            f"the search ranked architectures like training does (tau {tau:.2f} over {n} arcs)"
        )
    elif tau > 0:
        ranking_text = (
            f"the search's ranking agreed with training's, but not significantly (tau "
            f"{tau:.2f} over {n} arcs, p {p:.2f})"
        )
    else:
        ranking_text = (
            f"the search's ranking did not predict training (tau {tau:.2f} over {n} arcs)"
        )
    random, num_arcs = summary["random"], summary["num_arcs"]
    if summary["derived_diverged"]:
        derived_text = "the derived arc's retrain diverged"
    else:
        derived_text = f"the derived arc beats {random['beaten']} of {random['finite']} random arcs"
        if random["tied"]:
            derived_text += f" and ties {random['tied']}"
    derived_text += f" (rank {summary['derived_rank']} of {num_arcs})"
    if summary["diverged"]:
        derived_text += (
            f"; {summary['diverged']} of {num_arcs} retrains diverged (ranked last, left out of "
            "tau and of the random arcs' figures)"
        )
    return f"audit: {ranking_text}; {derived_text}"


def number(value, missing: str = "diverged") -> str:
    """A score for the table: 4 decimals for accuracies, fewer for perplexities."""
    if value is None:
        return missing
    digits = 1 if abs(value) >= 100 else 2 if abs(value) >= 10 else 4
    return f"{value:.{digits}f}"


def table(summary: dict) -> list[str]:
    """The per-arc table, the random arcs' figures and the rank agreement, as text lines."""
    metric = summary["metric"]
    width = max(len(arc["name"]) for arc in summary["arcs"])
    shared = max(len("shared-weight"), len(f"valid {metric}"))
    lines = [
        f"{'arc':<{width}}  {'shared-weight':>{shared}}  {'retrained':>9}  {'retrained':>9}  rank",
        f"{'':<{width}}  {'valid ' + metric:>{shared}}  {'valid':>9}  {'test':>9}",
    ]
    for arc in summary["arcs"]:
        lines.append(
            f"{arc['name']:<{width}}  {number(arc['shared_score']):>{shared}}  "
            f"{number(arc['valid_score']):>9}  {number(arc['test_score']):>9}  {arc['rank']:>4}"
        )
    random = summary["random"]
    lines.append(
        f"random arcs ({random['finite']} of {random['count']} finite): retrained valid {metric} "
        f"mean {number(random['mean'], '-')}, sd {number(random['sd'], '-')}, best "
        f"{number(random['best'], '-')}"
    )
    tau, rho = summary["kendall_tau"], summary["spearman_rho"]
    lines.append(
        "shared-weight vs retrained valid: Kendall tau "
        f"{'-' if tau is None else f'{tau:.2f}'}, Spearman rho "
        f"{'-' if rho is None else f'{rho:.2f}'} over {summary['tau_arcs']} arcs"
        + ("" if summary["tau_p_value"] is None else f" (p {summary['tau_p_value']:.3f})")
    )
    return lines


# kind -> (legend label, colour, marker size, drawing order): the derived arc on top.
_STYLES = {
    "random": ("random arcs", "tab:blue", 30, 1),
    "candidate": ("next-best derive candidates", "tab:orange", 40, 2),
    "derived": ("derived arc", "tab:red", 80, 3),
}


def draw_audit(summary: dict) -> bytes:
    """PNG bytes of the audit's scatter plot of a `summarise` summary.

    A table of a dozen arcs hides what one scatter plot shows at a glance: whether the points
    rise together and where the derived arc and its runners-up sit among the random arcs.

    x: the shared-weight valid score, y: the retrained valid score; random arcs, the other
    derive candidates and the derived arc in their own colours; tau in the title. Arcs whose
    retrain diverged have no y and are counted in the title instead.
    """
    from matplotlib.figure import Figure

    from enas_tf.pictures.arc_pictures import figure_png

    metric = summary["metric"]
    figure = Figure(figsize=(5.5, 4.2))
    ax = figure.add_subplot()
    for kind, (label, colour, size, order) in _STYLES.items():
        points = [
            (arc["shared_score"], arc["valid_score"])
            for arc in summary["arcs"]
            if arc["kind"] == kind and arc["shared_score"] is not None and not arc["diverged"]
        ]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.scatter(xs, ys, s=size, c=colour, label=label, zorder=order, edgecolors="white")
    for arc in summary["arcs"]:
        if arc["kind"] != "random" and arc["shared_score"] is not None and not arc["diverged"]:
            ax.annotate(
                arc["name"],
                (arc["shared_score"], arc["valid_score"]),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
    tau = summary["kendall_tau"]
    title = "Kendall tau undefined"
    if tau is not None:
        title = f"Kendall tau {tau:.2f} over {summary['tau_arcs']} arcs"
    if summary["diverged"]:
        title += f" ({summary['diverged']} diverged, not shown)"
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(f"shared-weight valid {metric} (the search's score)")
    ax.set_ylabel(f"retrained valid {metric}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    figure.tight_layout()
    return figure_png(figure)
