"""Pictures of the controller's policy: where its probability mass sits, decision by decision.

The controller reports, per sample, `choice_probs` float32 [U] in program order: for every
`OpChoice` its `num_ops` softmax probabilities, for every `IndexChoice` its `num_candidates`
softmax probabilities, and for every `SkipChoice` with candidates its `num_candidates` values
P(skip = 1) (independent Bernoullis); `AnchorStep`, `ResetAnchors` and `SkipChoice(0)` add
nothing. Averaged over samples this estimates the marginal probability of every choice, but a
flat vector of a few hundred numbers says little. `split_choice_probs` cuts it into one matrix
per kind of decision, which `heatmap_png` draws and `panel_histograms` summarises, so
TensorBoard shows whether the policy is collapsing, and onto what.

Panels per space (rows = decisions, columns = the options; NaN where an option does not exist,
e.g. node k of a micro cell can only read nodes < k):

* micro: two panels per cell, `normal_inputs` / `normal_ops` and `reduction_inputs` /
  `reduction_ops`. Rows are the operands "node k a", "node k b"; input columns are the nodes
  (c_{k-2}, c_{k-1}, 2, 3, ...) and op columns the op names. Two panels rather than one
  mixed-column matrix per cell, so every column means one thing and the colour of an input
  can be compared down the column.
* macro: `macro_ops` (layer x op) and `macro_skips` (layer 2..L x source layer, 0 = the stem;
  P(skip = 1), so rows do not sum to 1). A 1-layer network has no skip panel.
* rnn: `rnn_prev` (node 2..N x earlier node 1..N-1) and `rnn_activation` (node x activation).
  A 1-node cell has no prev panel.

matplotlib is imported inside the drawing functions (see `enas_tf.pictures.arc_pictures`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from enas_tf.pictures import arc_pictures
from enas_tf.spaces import decisions, macro, micro, rnn

SPACES: tuple[str, ...] = ("micro", "macro", "rnn")
_DEFAULT_OPS = {"micro": micro.OPS, "macro": macro.OPS, "rnn": rnn.ACTIVATIONS}
_PROGRAMS = {
    "micro": lambda size, num_ops: micro.decision_program(size),
    "macro": macro.decision_program,
    "rnn": lambda size, num_ops: rnn.decision_program(size),
}
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


def _width(step: Any) -> int:
    """How many entries of `choice_probs` a step contributes (0 for non-decisions)."""
    if isinstance(step, decisions.OpChoice):
        return step.num_ops
    if isinstance(step, (decisions.IndexChoice, decisions.SkipChoice)):
        return step.num_candidates
    return 0


def _signature(program: Sequence[Any]) -> list[tuple[str, int]]:
    """The decisions of a program by kind and width, the part of it the panels depend on."""
    return [(type(s).__name__, _width(s)) for s in program if _width(s)]


def _rows(program: Sequence[Any], probs: np.ndarray) -> list[np.ndarray]:
    """`probs` cut into one slice per decision, in program order."""
    widths = [w for _, w in _signature(program)]
    return np.split(probs, np.cumsum(widths)[:-1]) if widths else []


def _matrix(rows: list[np.ndarray], cols: int) -> np.ndarray:
    """Left-aligned rows padded with NaN to `cols` columns (options a decision lacks)."""
    out = np.full([len(rows), cols], np.nan)
    for r, row in enumerate(rows):
        out[r, : len(row)] = row
    return out


def _size(space: str, program: Sequence[Any]) -> tuple[int, int]:
    """(num_nodes or num_layers, num_ops) of a program of `space`, checked against the space.

    Raises:
      ValueError: the program is not what the space's `decision_program` makes for any size.
    """
    ops = [step for step in program if isinstance(step, decisions.OpChoice)]
    if not ops:
        raise ValueError(f"the program has no OpChoice: not a {space} decision program")
    num_ops = ops[0].num_ops
    size = len(ops) // (4 if space == "micro" else 1)  # micro: 4 ops per node (2 cells x a, b)
    expected = _PROGRAMS[space](size, num_ops) if size else ()
    if _signature(program) != _signature(expected):
        raise ValueError(
            f"the program's decisions do not match {space}.decision_program for any size "
            f"(read {len(ops)} OpChoice steps of {num_ops} options)"
        )
    return size, num_ops


def split_choice_probs(
    space: str,
    program: Sequence[Any],
    probs: Any,
    *,
    op_names: Optional[Sequence[str]] = None,
) -> list[PolicyPanel]:
    """Cuts a `choice_probs` vector into the panels of `space` (module docstring).

    Args:
      space: "micro", "macro" or "rnn".
      program: the decision program the controller ran (`<space>.decision_program(...)`).
      probs: float [U], one sample's `choice_probs` or their mean; [S, U] is averaged over S.
      op_names: the names of the OpChoice options, in token order: the space's ops or
        activations by default; a restricted macro search passes `macro.parse_ops(...)`.

    Returns:
      The panels, in program order.

    Raises:
      ValueError: unknown space, `len(probs)` is not the program's number of outcomes (both
        named), the program is not one of `space`, or `op_names` has the wrong length.
    """
    if space not in SPACES:
        raise ValueError(f"space={space!r}: must be one of {', '.join(SPACES)}")
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 2:
        probs = probs.mean(axis=0)
    if probs.ndim != 1:
        raise ValueError(f"probs has shape {probs.shape}: expected [U] or [samples, U]")
    total = sum(w for _, w in _signature(program))
    if len(probs) != total:
        raise ValueError(
            f"probs has {len(probs)} values but the program's decisions have {total} outcomes"
        )
    size, num_ops = _size(space, program)
    names = tuple(op_names) if op_names is not None else _DEFAULT_OPS[space]
    if len(names) != num_ops:
        raise ValueError(
            f"op_names has {len(names)} names but the program's OpChoice steps have {num_ops} "
            "options: pass the ops the search used (e.g. macro.parse_ops(config ops))"
        )
    build = {"micro": _micro_panels, "macro": _macro_panels, "rnn": _rnn_panels}[space]
    return build(_rows(program, probs), size, names)


def _micro_panels(rows: list[np.ndarray], size: int, names: tuple[str, ...]) -> list[PolicyPanel]:
    nodes = range(micro.NUM_CELL_INPUTS, size + micro.NUM_CELL_INPUTS)
    labels = tuple(f"node {k} {operand}" for k in nodes for operand in "ab")
    inputs = ("c_{k-2}", "c_{k-1}", *(str(k) for k in nodes[:-1]))
    panels, per_cell = [], 4 * size
    for c, cell in enumerate(micro.CELLS):
        mine = rows[c * per_cell : (c + 1) * per_cell]  # per node: index, op, index, op
        panels.append(
            PolicyPanel(
                f"{cell}_inputs",
                _matrix(mine[0::2], len(inputs)),
                labels,
                inputs,
                row_title="operand",
                col_title="input node",
            )
        )
        panels.append(
            PolicyPanel(
                f"{cell}_ops",
                _matrix(mine[1::2], len(names)),
                labels,
                names,
                row_title="operand",
                col_title="op",
            )
        )
    return panels


def _macro_panels(rows: list[np.ndarray], size: int, names: tuple[str, ...]) -> list[PolicyPanel]:
    layers = tuple(f"layer {k}" for k in range(1, size + 1))
    ops = rows[0:1] + rows[1::2]  # layer 1: op; layer k > 1: op, skips
    panels = [
        PolicyPanel(
            "macro_ops", _matrix(ops, len(names)), layers, names, row_title="layer", col_title="op"
        )
    ]
    if size >= 2:
        sources = ("stem", *(str(j) for j in range(1, size - 1)))
        panels.append(
            PolicyPanel(
                "macro_skips",
                _matrix(rows[2::2], size - 1),
                layers[1:],
                sources,
                categorical=False,
                row_title="layer",
                col_title="skip source layer",
            )
        )
    return panels


def _rnn_panels(rows: list[np.ndarray], size: int, names: tuple[str, ...]) -> list[PolicyPanel]:
    nodes = tuple(f"node {n}" for n in range(1, size + 1))
    activations = rows[0:1] + rows[2::2]  # node 1: activation; node l > 1: prev, activation
    panels = []
    if size >= 2:
        earlier = tuple(str(n) for n in range(1, size))
        panels.append(
            PolicyPanel(
                "rnn_prev",
                _matrix(rows[1::2], size - 1),
                nodes[1:],
                earlier,
                row_title="node",
                col_title="previous node",
            )
        )
    panels.append(
        PolicyPanel(
            "rnn_activation",
            _matrix(activations, len(names)),
            nodes,
            names,
            row_title="node",
            col_title="activation",
        )
    )
    return panels


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


def _tag(text: str) -> str:
    """`text` with everything but letters, digits, '.', '-' and '_' turned into '_'."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", text).strip("_")


def panel_histograms(panel: PolicyPanel) -> dict[str, np.ndarray]:
    """Per row, its existing probabilities, keyed "<panel name>/<row label>" (tag-safe).

    For `tf.summary.histogram`: how spread a decision's probabilities are, step by step
    (a collapsing softmax shows as one value near 1 and the rest near 0).
    """
    out: dict[str, np.ndarray] = {}
    for label, row in zip(panel.row_labels, panel.matrix, strict=True):
        key, suffix = f"{_tag(panel.name)}/{_tag(label)}", 1
        while key in out:  # two labels that differ only in unsafe characters
            key, suffix = f"{_tag(panel.name)}/{_tag(label)}_{suffix}", suffix + 1
        out[key] = row[np.isfinite(row)]
    return out
