"""Pictures of the controller's policy: where its probability mass sits, decision by decision.

The controller reports, per sample, `choice_probs` float32 [U] in program order: for every
deciding step its `decisions.num_outcomes` probabilities (softmax over ops or over earlier
nodes; P(skip = 1) per candidate for macro skips). Averaged over samples this estimates the
marginal probability of every choice, but a flat vector of a few hundred numbers says little.
`split_choice_probs` cuts it into the matrices the space lists as its `ChoicePanel`s (rows =
decisions, columns = options, NaN where an option does not exist, e.g. node k of a micro cell
can only read nodes < k), which `heatmap_png` draws, so
TensorBoard shows whether the policy is collapsing, and onto what.

What the panels are is the space's knowledge, kept beside its token layout
(`micro.choice_panels`: inputs and ops per cell; `macro.choice_panels`: ops, and skips as
independent probabilities; `rnn.choice_panels`: previous node and activation); a run asks
`registry.of(config).choice_panels()`. This module only cuts and draws.

matplotlib is imported inside the drawing functions (see `enas_tf.pictures.arc_pictures`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from enas_tf.pictures import arc_pictures
from enas_tf.spaces import decisions

_ANNOTATE_MAX_CELLS = 400  # beyond this the numbers no longer fit in their cells


@dataclasses.dataclass(frozen=True)
class PolicyPanel:
    """One matrix of choice probabilities, ready to draw.

    Attributes:
      name: tag-safe panel name, e.g. "normal_inputs", "macro_skips", "rnn_activation".
      matrix: float [rows, cols]; NaN where a row's decision has no such option.
      row_labels: one label per row (the decision, e.g. "node 3 b", "layer 5").
      col_labels: one label per column (the option, e.g. "c_{k-1}", "sep_conv_3x3").
      categorical: True if each row is one softmax (its values sum to 1); False for independent
        Bernoulli probabilities (macro skips).
      row_title: what the rows are, for the y axis.
      col_title: what the columns are, for the x axis.
    """

    name: str
    matrix: np.ndarray
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    categorical: bool = True
    row_title: str = ""
    col_title: str = ""


def _matrix(rows: list[np.ndarray], cols: int) -> np.ndarray:
    """Left-aligned rows padded with NaN to `cols` columns (options a decision lacks)."""
    out = np.full([len(rows), cols], np.nan)
    for r, row in enumerate(rows):
        out[r, : len(row)] = row
    return out


def split_choice_probs(
    program: Sequence[Any], probs: Any, panels: Sequence[decisions.ChoicePanel]
) -> list[PolicyPanel]:
    """Cuts a `choice_probs` vector into the space's panels (module docstring).

    Args:
      program: the decision program the controller ran.
      probs: float [U], one sample's `choice_probs` or their mean; [S, U] is averaged over S.
      panels: the space's `ChoicePanel`s for this program (`<space>.choice_panels(size, names)`
        or `registry.of(config).choice_panels()`).

    Returns:
      One `PolicyPanel` per `ChoicePanel`, in the given order.

    Raises:
      ValueError: `len(probs)` is not the program's number of outcomes (both named); or the
        panels do not fit the program (a decision they name does not exist, or has more
        options than the panel has columns: panels of another space, size or op list).
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 2:
        probs = probs.mean(axis=0)
    if probs.ndim != 1:
        raise ValueError(f"probs has shape {probs.shape}: expected [U] or [samples, U]")
    widths = [decisions.num_outcomes(step) for step in decisions.decision_steps(tuple(program))]
    if len(probs) != sum(widths):
        raise ValueError(
            f"probs has {len(probs)} values but the program's decisions have {sum(widths)} outcomes"
        )
    rows = np.split(probs, np.cumsum(widths)[:-1]) if widths else []
    shown = sorted(d for panel in panels for d in panel.decisions)
    if shown != list(range(len(rows))):
        raise ValueError(
            f"the panels show decisions {_span(shown)} but the program has {len(rows)} "
            "decisions: pass the panels of the space and size the program was made for"
        )
    out = []
    for panel in panels:
        mine = [rows[d] for d in panel.decisions]
        cols = len(panel.col_labels)
        too_wide = [d for d, row in zip(panel.decisions, mine, strict=True) if len(row) > cols]
        if too_wide:
            raise ValueError(
                f"panel {panel.name}: decision {too_wide[0]} has {len(rows[too_wide[0]])} options "
                f"but the panel has {cols} columns: pass the op names the search "
                "used (e.g. macro.parse_ops(config ops))"
            )
        out.append(
            PolicyPanel(
                panel.name,
                _matrix(mine, cols),
                panel.row_labels,
                panel.col_labels,
                categorical=panel.categorical,
                row_title=panel.row_title,
                col_title=panel.col_title,
            )
        )
    return out


def _span(indices: list[int]) -> str:
    """A short description of a sorted index list for messages."""
    if not indices:
        return "none"
    return f"{indices[0]}..{indices[-1]} ({len(indices)} in all)"


def heatmap_png(panel: PolicyPanel, *, title: str = "") -> bytes:
    """PNG bytes of the panel as a heatmap on a fixed 0..1 colour scale.

    The scale is fixed so pictures from different steps of a run compare by colour; options
    that do not exist are grey, and the values are written in the cells while they fit.

    Args:
      panel: from `split_choice_probs`.
      title: the figure title; the panel's name by default.
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    rows, cols = panel.matrix.shape
    longest = max(len(label) for label in panel.row_labels)
    tilt = max(len(label) for label in panel.col_labels) > 4  # op names would overlap
    figure = Figure(figsize=(2.2 + 0.07 * longest + 0.55 * cols, 1.9 + 0.3 * rows))
    ax = figure.add_subplot()
    cmap = colormaps["viridis"].with_extremes(bad="#d9d9d9")
    image = ax.imshow(
        np.ma.masked_invalid(panel.matrix),
        cmap=cmap,
        vmin=0.0,
        vmax=1.0,
        aspect="auto",
        interpolation="nearest",
    )
    ax.set_xticks(
        range(cols),
        panel.col_labels,
        rotation=45 if tilt else 0,
        ha="right" if tilt else "center",
        fontsize=8,
    )
    ax.set_yticks(range(rows), panel.row_labels, fontsize=8)
    ax.set_xlabel(panel.col_title)
    ax.set_ylabel(panel.row_title)
    ax.set_title(title or panel.name, fontsize=10)
    if rows * cols <= _ANNOTATE_MAX_CELLS:
        size = 7 if cols <= 12 else 5.5
        for (r, c), value in np.ndenumerate(panel.matrix):
            if np.isfinite(value):
                colour = "white" if value < 0.55 else "black"  # viridis is dark at the low end
                ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=size, color=colour)
    label = "P(choice)" if panel.categorical else "P(skip = 1)"
    figure.colorbar(image, ax=ax, label=label, fraction=0.05, pad=0.02)
    figure.tight_layout()
    return arc_pictures.figure_png(figure)


def heatmap_tensor(panel: PolicyPanel, *, title: str = "") -> np.ndarray:
    """`heatmap_png`'s picture as uint8 [1, H, W, 3], ready for `tf.summary.image`."""
    return arc_pictures.png_to_image_tensor(heatmap_png(panel, title=title))
