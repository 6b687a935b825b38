"""Architectures as text for people: markdown tables for TensorBoard's Text dashboard.

An arc's integers (`describe_arc`, the arc strings) can only be read with the token layout at
hand; the text here names every op and input instead. Each space has two forms:

* `<space>_markdown(arc)`: a table of the whole arc, one row per node or layer, and a line on
  what the cell output is (micro and rnn) or where the network pools (macro);
* `<space>_columns(arc)`: the arc as a few one-line cells, keyed by column header, for one row
  of `arcs_table`, a table of many arcs with their scores (e.g. the sampled arcs of derive).

`registry` picks the functions of an arc's space (`registry.arc_markdown`, `arc_columns`,
`arcs_table`), so nothing outside `enas_tf.spaces` needs to know which space an arc is of.

Markdown: TensorBoard renders text summaries with Python-Markdown's `tables` extension, so a
table is pipes, a header row and a `---` row; a paragraph after it needs a blank line, or it
would be read as one more row. Names such as `c[k-2]` and `x_t` are left as they are: Python-
Markdown reads neither as a link nor as emphasis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional

from enas_tf.spaces.macro.arc import MacroArc
from enas_tf.spaces.macro.layout import pool_after
from enas_tf.spaces.micro.arc import MicroArc
from enas_tf.spaces.micro.layout import NUM_CELL_INPUTS
from enas_tf.spaces.rnn.arc import RnnArc

_CELL_INPUTS = ("c[k-2]", "c[k-1]")
"""Names of a micro cell's inputs 0 and 1: the outputs of the cells two back and one back."""


def _cell(text: str) -> str:
    """`text` safe inside one table cell: a pipe would end the cell, a newline the row."""
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-style markdown table (header row, `---` row, one line per row).

    Raises:
      ValueError: a row has not one cell per header entry (it would shift every column).
    """
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"row {list(row)} has {len(row)} cells, the header {len(header)}")
        lines.append("| " + " | ".join(_cell(str(value)) for value in row) + " |")
    return "\n".join(lines)


def _paragraph(lines: Sequence[str]) -> str:
    """Lines after a table: a blank line first, then markdown line breaks (two spaces)."""
    return "\n\n" + "  \n".join(lines)


def format_score(score: Optional[float]) -> str:
    """A score with 4 significant digits (`0.9310`, `85.17`, `1234`), `-` when there is none.

    Trailing zeros are kept so that the scores of one column line up digit for digit.
    """
    return "-" if score is None else f"{float(score):#.4g}".rstrip(".")


def arcs_table(rows: Sequence[tuple[Optional[float], Mapping[str, str]]], score_header: str) -> str:
    """A markdown table of many arcs, one row each in the given order: `# | score | columns`.

    Args:
      rows: `(score, columns)` per arc; `columns` is the arc's `<space>_columns` (all of one
        space, so every row has the same keys).
      score_header: the score column's header, e.g. "valid accuracy".

    Raises:
      ValueError: the rows' columns differ (arcs of two spaces in one table).
    """
    keys = list(rows[0][1]) if rows else []
    body = []
    for number, (score, columns) in enumerate(rows, start=1):
        if list(columns) != keys:
            raise ValueError(
                f"arc {number} has columns {list(columns)}, arc 1 {keys}: one table holds arcs "
                "of one space"
            )
        body.append([str(number), format_score(score), *columns.values()])
    return markdown_table(["#", score_header, *keys], body)


# Micro ----------------------------------------------------------------------------------------


def _micro_input(index: int, short: bool) -> str:
    """Node `index` of a micro cell as an input: `c[k-2]`, `c[k-1]`, then `node 2` (`n2`)."""
    if index < NUM_CELL_INPUTS:
        return _CELL_INPUTS[index]
    return f"n{index}" if short else f"node {index}"


def micro_markdown(arc: MicroArc, output_mode: str = "loose_ends") -> str:
    """Both cells of a micro arc, a row per computed node, then each cell's concatenated nodes.

    Args:
      arc: the arc.
      output_mode: the rnn space's (which nodes h_t averages); a micro cell always
        concatenates its loose ends, so it is ignored.
    """
    del output_mode
    rows, notes = [], []
    for name, cell in arc.cells():
        for k, node in enumerate(cell.nodes, start=NUM_CELL_INPUTS):
            a, b = _micro_input(node.input_a, False), _micro_input(node.input_b, False)
            rows.append([name, f"node {k}", a, node.op_a, b, node.op_b])
        ends = ", ".join(_micro_input(k, False) for k in cell.loose_ends())
        notes.append(f"{name} cell output: concat({ends})")
    notes.append(
        "(a cell concatenates the nodes no later node reads; the reduction cell's ops on "
        f"{' and '.join(_CELL_INPUTS)} use stride 2)"
    )
    header = ["cell", "node", "input 1", "op 1", "input 2", "op 2"]
    return markdown_table(header, rows) + _paragraph(notes)


def micro_columns(arc: MicroArc) -> dict[str, str]:
    """`{"normal cell": "n2 = op(input) + op(input); n3 = ...", "reduction cell": ...}`."""
    columns = {}
    for name, cell in arc.cells():
        columns[f"{name} cell"] = "; ".join(
            f"n{k} = {node.op_a}({_micro_input(node.input_a, True)}) + "
            f"{node.op_b}({_micro_input(node.input_b, True)})"
            for k, node in enumerate(cell.nodes, start=NUM_CELL_INPUTS)
        )
    return columns


# Macro ----------------------------------------------------------------------------------------


def _sources(sources: Sequence[int]) -> str:
    """Skip sources by layer number, the stem (layer 0) by name."""
    return ", ".join("stem" if j == 0 else str(j) for j in sources)


def macro_markdown(arc: MacroArc, output_mode: str = "loose_ends") -> str:
    """A macro network, a row per layer (op, skip sources), then what the layers read.

    Args:
      arc: the arc.
      output_mode: the rnn space's; ignored.
    """
    del output_mode
    rows = [
        [str(number), layer.op, _sources(layer.skip_sources()) or "-"]
        for number, layer in enumerate(arc.layers, start=1)
    ]
    notes = [
        "each layer applies its op to the layer before it (layer 1: the stem, a conv_3x3); "
        "its skip connections concatenate earlier layers' outputs to the op's"
    ]
    pools = pool_after(arc.num_layers)
    if pools:
        after = " and ".join(str(p) for p in pools)
        notes.append(
            f"the network halves its resolution after layer{'s' * (len(pools) > 1)} {after}"
        )
    return markdown_table(["layer", "op", "skip connections from"], rows) + _paragraph(notes)


def macro_columns(arc: MacroArc) -> dict[str, str]:
    """`{"layers": "1 conv_3x3; 2 sep_conv_5x5 +skip stem; 3 max_pool_3x3 +skip stem,1; ..."}`."""
    parts = []
    for number, layer in enumerate(arc.layers, start=1):
        sources = layer.skip_sources()
        skips = f" +skip {_sources(sources).replace(', ', ',')}" if sources else ""
        parts.append(f"{number} {layer.op}{skips}")
    return {"layers": "; ".join(parts)}


# Rnn ------------------------------------------------------------------------------------------


def rnn_markdown(arc: RnnArc, output_mode: str = "loose_ends") -> str:
    """An rnn cell, a row per node (what it reads, its activation), then what h_t averages.

    Args:
      arc: the arc.
      output_mode: which nodes h_t averages, "loose_ends" (the paper) or "all_but_first"
        (enas_lm's GPU model); the model config says which (`retrain.model.output`).

    Raises:
      ArcError: an unknown `output_mode`, or "all_but_first" for a 1-node cell.
    """
    outputs = arc.output_nodes(output_mode)
    rows = [
        [str(number), "x_t, h_{t-1}" if number == 1 else f"node {node.prev}", node.activation]
        for number, node in enumerate(arc.nodes, start=1)
    ]
    why = {"loose_ends": "the nodes no later node reads", "all_but_first": "every node but node 1"}
    nodes = f"node{'s' * (len(outputs) > 1)} {', '.join(str(n) for n in outputs)}"
    note = f"h_t = mean of {nodes} ({why[output_mode]})"
    return markdown_table(["node", "input", "activation"], rows) + _paragraph([note])


def rnn_columns(arc: RnnArc) -> dict[str, str]:
    """`{"cell": "1 tanh(x, h); 2 relu(1); 3 identity(1); ..."}`: node, activation(input)."""
    parts = [
        f"{number} {node.activation}({'x, h' if number == 1 else node.prev})"
        for number, node in enumerate(arc.nodes, start=1)
    ]
    return {"cell": "; ".join(parts)}
