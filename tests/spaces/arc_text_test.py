"""Tests of enas_tf.spaces.arc_text (through the registry): arcs as markdown for people."""

import numpy as np
import pytest

from enas_tf.errors import ArcError
from enas_tf.spaces import arc_text, macro, micro, registry, rnn

# normal: node 2 = sep3(c[k-2]) + max(c[k-1]); node 3 = id(c[k-2]) + sep5(node 2);
#         node 4 = avg(c[k-1]) + id(c[k-1]). Loose ends: nodes 3 and 4.
# reduction: node 2 = avg(c[k-1]) + avg(c[k-2]); node 3 = sep3(node 2) + sep5(c[k-1]);
#            node 4 = max(node 3) + id(node 2). Loose end: node 4.
MICRO = micro.MicroArc.from_strings("0 0 1 3 0 4 2 1 1 2 1 4", "1 2 0 2 2 0 1 1 3 3 2 4")
# layer 1 conv_3x3; 2 sep_conv_5x5 + stem; 3 max_pool_3x3 + layer 1; 4 sep_conv_3x3 + stem, 1.
MACRO = macro.MacroArc.from_rows(["0", "3 1", "5 0 1", "1 1 1 0"])
RNN = rnn.PUBLISHED["enas_lm_cell"]  # 9 nodes; loose ends 8 and 9

ARCS = {
    "micro": [MICRO, micro.PUBLISHED["enas_micro_final"]],
    "macro": [MACRO, macro.PUBLISHED["enas_macro_final"]],
    "rnn": [RNN, rnn.PUBLISHED["enas_ptb_paper"]],
}
for _seed in range(3):
    _rng = np.random.default_rng(_seed)
    ARCS["micro"].append(micro.sample_random_arc(1 + _seed * 2, _rng))
    ARCS["macro"].append(macro.sample_random_arc(1 + _seed * 5, _rng))
    ARCS["rnn"].append(rnn.sample_random_arc(1 + _seed * 4, _rng))
ALL_ARCS = [(space, arc) for space, arcs in ARCS.items() for arc in arcs]


def _table(text: str) -> tuple[list[list[str]], list[str]]:
    """(rows of cells, header included, `---` row dropped; the lines after the table)."""
    table, rest = text.split("\n\n", 1) if "\n\n" in text else (text, "")
    lines = table.split("\n")
    assert lines[1] == "|" + "---|" * (lines[0].count("|") - 1), lines[1]
    lines = [lines[0], *lines[2:]]
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines)
    rows = [line[2:-2].split(" | ") for line in lines]
    return rows, rest.split("  \n") if rest else []


def test_micro_table_names_every_input_and_op_in_its_row():
    rows, notes = _table(registry.arc_markdown(MICRO))
    assert rows == [
        ["cell", "node", "input 1", "op 1", "input 2", "op 2"],
        ["normal", "node 2", "c[k-2]", "sep_conv_3x3", "c[k-1]", "max_pool_3x3"],
        ["normal", "node 3", "c[k-2]", "identity", "node 2", "sep_conv_5x5"],
        ["normal", "node 4", "c[k-1]", "avg_pool_3x3", "c[k-1]", "identity"],
        ["reduction", "node 2", "c[k-1]", "avg_pool_3x3", "c[k-2]", "avg_pool_3x3"],
        ["reduction", "node 3", "node 2", "sep_conv_3x3", "c[k-1]", "sep_conv_5x5"],
        ["reduction", "node 4", "node 3", "max_pool_3x3", "node 2", "identity"],
    ]
    assert notes[0] == "normal cell output: concat(node 3, node 4)"
    assert notes[1] == "reduction cell output: concat(node 4)"
    assert "stride 2" in notes[2]


def test_micro_table_of_the_published_cell_lists_its_loose_ends():
    arc = micro.PUBLISHED["enas_micro_final"]
    rows, notes = _table(registry.arc_markdown(arc))
    assert len(rows) == 1 + 2 * arc.num_nodes
    for (name, cell), note in zip(arc.cells(), notes, strict=False):
        ends = ", ".join(f"node {k}" for k in cell.loose_ends())
        assert note == f"{name} cell output: concat({ends})"


def test_micro_columns_read_as_sums_of_named_ops():
    assert registry.arc_columns(MICRO) == {
        "normal cell": "n2 = sep_conv_3x3(c[k-2]) + max_pool_3x3(c[k-1]); "
        "n3 = identity(c[k-2]) + sep_conv_5x5(n2); n4 = avg_pool_3x3(c[k-1]) + identity(c[k-1])",
        "reduction cell": "n2 = avg_pool_3x3(c[k-1]) + avg_pool_3x3(c[k-2]); "
        "n3 = sep_conv_3x3(n2) + sep_conv_5x5(c[k-1]); n4 = max_pool_3x3(n3) + identity(n2)",
    }


def test_macro_table_has_the_op_and_skip_sources_of_every_layer():
    rows, notes = _table(registry.arc_markdown(MACRO))
    assert rows == [
        ["layer", "op", "skip connections from"],
        ["1", "conv_3x3", "-"],
        ["2", "sep_conv_5x5", "stem"],
        ["3", "max_pool_3x3", "1"],
        ["4", "sep_conv_3x3", "stem, 1"],
    ]
    assert notes[-1] == "the network halves its resolution after layers 1 and 2"
    assert registry.arc_columns(MACRO) == {
        "layers": "1 conv_3x3; 2 sep_conv_5x5 +skip stem; 3 max_pool_3x3 +skip 1; "
        "4 sep_conv_3x3 +skip stem,1"
    }


def test_macro_table_of_the_published_network_matches_its_skip_bits():
    arc = macro.PUBLISHED["enas_macro_final"]
    rows, _ = _table(registry.arc_markdown(arc))
    assert len(rows) == 1 + arc.num_layers
    for row, layer in zip(rows[1:], arc.layers, strict=True):
        sources = ["0" if s == "stem" else s for s in row[2].split(", ") if s != "-"]
        assert [int(s) for s in sources] == list(layer.skip_sources())
        assert row[1] == layer.op


def test_rnn_table_names_each_nodes_input_and_the_averaged_nodes():
    rows, notes = _table(registry.arc_markdown(RNN))
    assert rows[0] == ["node", "input", "activation"]
    assert rows[1] == ["1", "x_t, h_{t-1}", "tanh"]
    assert rows[2:] == [
        [str(k), f"node {node.prev}", node.activation]
        for k, node in enumerate(RNN.nodes[1:], start=2)
    ]
    assert rows[4] == ["4", "node 3", "relu"]
    assert notes == ["h_t = mean of nodes 8, 9 (the nodes no later node reads)"]
    _, notes = _table(registry.arc_markdown(RNN, output_mode="all_but_first"))
    assert notes == ["h_t = mean of nodes 2, 3, 4, 5, 6, 7, 8, 9 (every node but node 1)"]
    with pytest.raises(ArcError, match="mode"):
        registry.arc_markdown(RNN, output_mode="last")


def test_rnn_columns_name_activation_and_input_per_node():
    assert registry.arc_columns(RNN) == {
        "cell": "1 tanh(x, h); 2 sigmoid(1); 3 tanh(2); 4 relu(3); 5 sigmoid(3); 6 tanh(5); "
        "7 tanh(6); 8 sigmoid(4); 9 sigmoid(7)"
    }


@pytest.mark.parametrize("space, arc", ALL_ARCS, ids=lambda v: v if isinstance(v, str) else "")
def test_columns_fit_one_table_cell_and_name_every_op(space, arc):
    columns = registry.arc_columns(arc)
    assert columns and all(isinstance(v, str) and v for v in columns.values())
    for value in columns.values():
        assert "|" not in value and "\n" not in value, value
    text = " ".join(columns.values())
    if space == "micro":
        assert list(columns) == ["normal cell", "reduction cell"]
        ops = {op for _, c in arc.cells() for n in c.nodes for op in (n.op_a, n.op_b)}
    elif space == "macro":
        assert list(columns) == ["layers"]
        ops = {layer.op for layer in arc.layers}
    else:
        assert list(columns) == ["cell"]
        ops = {node.activation for node in arc.nodes}
    assert all(op in text for op in ops)


@pytest.mark.parametrize("space, arc", ALL_ARCS, ids=lambda v: v if isinstance(v, str) else "")
def test_every_table_has_one_row_per_node_or_layer(space, arc):
    rows, notes = _table(registry.arc_markdown(arc))
    size = {"micro": 2 * getattr(arc, "num_nodes", 0), "macro": getattr(arc, "num_layers", 0)}
    assert len(rows) == 1 + size.get(space, getattr(arc, "num_nodes", 0))
    assert len({len(row) for row in rows}) == 1
    assert notes or space == "macro"  # a 1- or 2-layer macro network does not pool


def test_arcs_table_has_one_row_per_arc_in_order_with_4_digit_scores():
    arcs = ARCS["micro"]
    scores = [np.float32(0.93127), None, 0.5, 81.2345, 12345.6]  # numpy scores too
    rows, notes = _table(registry.arcs_table(list(zip(scores, arcs, strict=True)), "valid acc"))
    assert not notes
    assert rows[0] == ["#", "valid acc", "normal cell", "reduction cell"]
    assert len(rows) == 1 + len(arcs)
    assert [row[0] for row in rows[1:]] == ["1", "2", "3", "4", "5"]
    assert [row[1] for row in rows[1:]] == ["0.9313", "-", "0.5000", "81.23", "1.235e+04"]
    for row, arc in zip(rows[1:], arcs, strict=True):
        assert row[2:] == list(registry.arc_columns(arc).values())


@pytest.mark.parametrize("space", sorted(ARCS))
def test_arcs_table_of_each_space_has_its_columns(space):
    rows, _ = _table(registry.arcs_table([(1.0, arc) for arc in ARCS[space]], "score"))
    assert rows[0][2:] == list(registry.arc_columns(ARCS[space][0]))
    assert len(rows) == 1 + len(ARCS[space])


def test_arcs_table_refuses_arcs_of_two_spaces():
    with pytest.raises(ValueError, match="one space"):
        registry.arcs_table([(1.0, MICRO), (2.0, RNN)], "score")


def test_markdown_table_keeps_every_cell_in_its_column():
    text = arc_text.markdown_table(["a|b", "c"], [["x|y", "two\nlines"]])
    assert text.split("\n") == ["| a\\|b | c |", "|---|---|", "| x\\|y | two lines |"]
    with pytest.raises(ValueError, match="2 cells, the header 1"):
        arc_text.markdown_table(["a"], [["x", "y"]])


def test_tensorboard_renders_the_tables_and_the_notes_apart():
    plugin_util = pytest.importorskip("tensorboard.plugin_util")
    html = plugin_util.markdown_to_safe_html(registry.arc_markdown(MICRO))
    assert html.count("<table>") == 1 and html.count("<tr>") == 1 + 2 * MICRO.num_nodes
    assert "<td>c[k-2]</td>" in html and "<td>sep_conv_3x3</td>" in html
    assert "<p>normal cell output: concat(node 3, node 4)<br" in html
    html = plugin_util.markdown_to_safe_html(registry.arcs_table([(0.9, RNN)], "acc"))
    assert html.count("<tr>") == 2 and "<td>1 tanh(x, h); 2 sigmoid(1);" in html
