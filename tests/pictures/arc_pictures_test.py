"""Tests for enas_tf.pictures.arc_pictures: DOT text and PNGs of micro, macro and rnn arcs."""

import collections
import functools
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from enas_tf.errors import ArcError
from enas_tf.pictures import arc_pictures
from enas_tf.spaces import macro, micro, rnn

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$")
NODE = re.compile(r"^\s*(\w+) \[label=\"(.*?)\"")

ARCS = {
    "micro_published": micro.PUBLISHED["enas_micro_final"],
    "micro_random": micro.sample_random_arc(4, np.random.default_rng(0)),
    "macro_published": macro.PUBLISHED["enas_macro_final"],
    "macro_random": macro.sample_random_arc(7, np.random.default_rng(0)),
    "rnn_published": rnn.PUBLISHED["enas_ptb_paper"],
    "rnn_random": rnn.sample_random_arc(6, np.random.default_rng(0)),
}


@functools.cache
def _png(name: str, output_mode: str = "loose_ends", card: bool = False) -> bytes:
    """Each picture is drawn once per test process (the 24-layer one takes about a second)."""
    return arc_pictures.draw_arc(ARCS[name], output_mode=output_mode, card=card)


def _edges(dot: str) -> list[tuple[str, str, str]]:
    """(source, destination, attributes) of every edge line of a DOT text."""
    return [m.groups("") for m in map(EDGE.match, dot.splitlines()) if m]


def _nodes(dot: str) -> dict[str, str]:
    """Node id -> label (with DOT's escaped newlines) of every node line."""
    return dict(m.groups() for m in map(NODE.match, dot.splitlines()) if m)


def _label(attrs: str) -> str:
    match = re.search(r'label="([^"]*)"', attrs)
    return match.group(1) if match else ""


@pytest.mark.parametrize("card", [False, True], ids=["file", "card"])
@pytest.mark.parametrize("name", sorted(ARCS))
def test_draw_arc_is_a_png_of_plausible_size(name, card):
    png = _png(name, card=card)
    assert png.startswith(PNG_SIGNATURE)
    image = arc_pictures.png_to_image_tensor(png)
    assert image.dtype == np.uint8 and image.ndim == 4 and image.shape[0] == 1
    assert image.shape[3] == 3
    height, width = image.shape[1:3]
    assert 150 <= height <= 6000 and 150 <= width <= 6000, (height, width)
    drawn = (image[0] < 200).any(axis=-1).mean()  # boxes, text and arrows, not an empty canvas
    assert 0.005 < drawn < 0.5, drawn


def test_picture_size_follows_the_arc_size():
    small = arc_pictures.png_to_image_tensor(_png("macro_random"))  # 7 layers
    large = arc_pictures.png_to_image_tensor(_png("macro_published"))  # 24 layers + 2 pools
    assert large.shape[1] > 2.5 * small.shape[1]  # the chain grows, the labels do not shrink


def test_arc_image_tensor_is_the_card_picture():
    arc = ARCS["rnn_random"]
    image = arc_pictures.arc_image_tensor(arc)
    card = arc_pictures.png_to_image_tensor(_png("rnn_random", card=True))
    np.testing.assert_array_equal(image, card)
    assert image.shape != arc_pictures.png_to_image_tensor(_png("rnn_random")).shape


def _size(name: str, card: bool) -> tuple[int, int]:
    """(height, width) in pixels of a picture."""
    return arc_pictures.png_to_image_tensor(_png(name, card=card)).shape[1:3]


@pytest.mark.parametrize("name", sorted(ARCS))
def test_the_card_picture_is_legible_at_a_cards_width(name):
    """TensorBoard fits an image to a card about 450 pixels wide: the card picture's labels,
    scaled down to that width, stay at least 9 pixels high (arc.png's: 4 to 8)."""
    style = arc_pictures._CARD
    label_px = min(8, style.edge_pt) * style.zoom * arc_pictures._DPI / 72
    height, width = _size(name, card=True)
    limit = 1100 if name == "macro_published" else 800  # 24 layers and 98 skips: 7 pixels
    assert width <= limit, (height, width)
    if name != "macro_published":
        assert label_px * 450 / width >= 9, width
    assert min(8, style.edge_pt) * style.zoom >= 12  # points


@pytest.mark.parametrize("name", ["micro_published", "micro_random"])
def test_the_card_stacks_the_two_micro_cells(name):
    file_height, file_width = _size(name, card=False)
    height, width = _size(name, card=True)
    assert file_width > 2 * file_height  # side by side
    assert height > 1.5 * width  # one above the other


def test_the_card_turns_a_deep_rnn_cell_top_to_bottom():
    file_height, file_width = _size("rnn_published", card=False)  # 12 nodes, 9 deep
    height, width = _size("rnn_published", card=True)
    assert file_width > 3 * file_height and height > 2 * width


@pytest.mark.parametrize("vertical", [False, True])
def test_layered_layout_runs_every_edge_along_the_ranks(vertical):
    graph = arc_pictures.registry.arc_graph(ARCS["rnn_published"])
    layout = arc_pictures._layered_layout(
        list(graph.nodes), list(graph.edges), arc_pictures._CARD, vertical
    )
    for edge in graph.edges:
        (xs, ys, _), (xd, yd, _) = layout.boxes[edge.src], layout.boxes[edge.dst]
        assert (ys > yd) if vertical else (xs < xd), edge
    x0, x1, _, _ = layout.extent
    assert all(x0 <= x - w / 2 and x + w / 2 <= x1 for x, _, w in layout.boxes.values())


@pytest.mark.parametrize("name", ["micro_published", "micro_random"])
def test_micro_dot_has_every_node_op_edge_and_loose_end(name):
    arc = ARCS[name]
    dot = arc_pictures.arc_to_dot(arc)
    assert dot.startswith("digraph arc {") and dot.count("{") == dot.count("}")
    assert "subgraph cluster_normal {" in dot and "subgraph cluster_reduction {" in dot
    nodes, edges = _nodes(dot), _edges(dot)
    for cell_name, cell in arc.cells():
        assert nodes[f"{cell_name}_0"] == "c_{k-2}" and nodes[f"{cell_name}_1"] == "c_{k-1}"
        for k, node in enumerate(cell.nodes, start=2):
            assert "add" in nodes[f"{cell_name}_{k}"]
            into = [(s, _label(a)) for s, d, a in edges if d == f"{cell_name}_{k}"]
            expected = [(f"{cell_name}_{node.input_a}", node.op_a)]
            expected += [(f"{cell_name}_{node.input_b}", node.op_b)]
            assert sorted(into) == sorted(expected)
        concat = [s for s, d, _ in edges if d == f"{cell_name}_concat"]
        assert sorted(concat) == sorted(f"{cell_name}_{k}" for k in cell.loose_ends())
    used = {op for _, cell in arc.cells() for n in cell.nodes for op in (n.op_a, n.op_b)}
    assert all(f'label="{op}"' in dot for op in used)
    assert len(edges) == sum(2 * c.num_nodes + len(c.loose_ends()) for _, c in arc.cells())


@pytest.mark.parametrize("name", ["macro_published", "macro_random"])
def test_macro_dot_has_the_chain_every_skip_and_the_pooling_steps(name):
    arc = ARCS[name]
    dot = arc_pictures.arc_to_dot(arc)
    nodes, edges = _nodes(dot), _edges(dot)
    for number, layer in enumerate(arc.layers, start=1):
        assert nodes[f"layer_{number}"] == f"layer {number}\\n{layer.op}"
    skips = [(s, d) for s, d, a in edges if "style=dashed" in a]
    assert len(skips) == sum(sum(layer.skips) for layer in arc.layers)
    expected = {
        (f"layer_{j}", f"layer_{number}")
        for number, layer in enumerate(arc.layers, start=1)
        for j in layer.skip_sources()
    }
    assert set(skips) == expected
    pools = macro.pool_after(arc.num_layers)
    assert sorted(n for n in nodes if n.startswith("pool_")) == sorted(f"pool_{p}" for p in pools)
    chain = {s: d for s, d, a in edges if "dashed" not in a}  # one successor each: a chain
    walk, at = [], "layer_0"
    while at in chain:
        walk.append(at := chain[at])
    assert walk[-1] == f"layer_{arc.num_layers}"
    assert len(walk) == arc.num_layers + len(pools)
    for p in pools:
        assert walk[walk.index(f"layer_{p}") + 1] == f"pool_{p}"


def test_drawing_the_arc_does_not_import_tensorflow():
    """The pooling rule is shared with the models through a module without TensorFlow."""
    code = (
        "import sys; from enas_tf.pictures import arc_pictures; from enas_tf.spaces import macro; "
        "arc_pictures.arc_to_dot(macro.PUBLISHED['enas_macro_final']); "
        "assert 'tensorflow' not in sys.modules, 'drawing imported tensorflow'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", ["rnn_published", "rnn_random"])
@pytest.mark.parametrize("mode", rnn.OUTPUT_MODES)
def test_rnn_dot_has_activations_and_the_averaged_nodes(name, mode):
    arc = ARCS[name]
    dot = arc_pictures.arc_to_dot(arc, output_mode=mode)
    edges = _edges(dot)
    first = arc.nodes[0].activation
    assert sorted((s, _label(a)) for s, d, a in edges if d == "node_1") == [
        ("h_prev", first),
        ("x_t", first),
    ]
    for number, node in enumerate(arc.nodes[1:], start=2):
        into = [(s, _label(a)) for s, d, a in edges if d == f"node_{number}"]
        assert into == [(f"node_{node.prev}", node.activation)]
    averaged = [s for s, d, _ in edges if d == "h_t"]
    assert sorted(averaged) == sorted(f"node_{n}" for n in arc.output_nodes(mode))


def test_rnn_output_mode_changes_the_picture():
    assert _png("rnn_published", "all_but_first") != _png("rnn_published")
    with pytest.raises(ArcError, match="mode"):
        arc_pictures.draw_arc(ARCS["rnn_random"], output_mode="last")


def test_save_arc_pictures_writes_exactly_two_files(tmp_path):
    arc = ARCS["micro_random"]
    directory = tmp_path / "pictures"  # does not exist yet
    png_path, dot_path = arc_pictures.save_arc_pictures(arc, str(directory))
    assert (png_path, dot_path) == (str(directory / "arc.png"), str(directory / "arc.dot"))
    assert sorted(os.listdir(directory)) == ["arc.dot", "arc.png"]
    with open(dot_path) as f:
        assert f.read() == arc_pictures.arc_to_dot(arc)
    with open(png_path, "rb") as f:
        assert f.read() == _png("micro_random")
    arc_pictures.save_arc_pictures(ARCS["rnn_random"], str(directory))  # replaces both
    assert sorted(os.listdir(directory)) == ["arc.dot", "arc.png"]
    with open(dot_path) as f:
        assert "h_t" in f.read()


def test_an_interrupted_save_leaves_no_temporary_file(tmp_path, monkeypatch):
    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(arc_pictures.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        arc_pictures.save_arc_pictures(ARCS["micro_random"], str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_unknown_arc_type_raises_type_error_naming_it(tmp_path):
    Fake = collections.namedtuple("FakeArc", "layers")
    for draw in (arc_pictures.draw_arc, arc_pictures.arc_to_dot, arc_pictures.arc_image_tensor):
        with pytest.raises(TypeError, match="FakeArc"):
            draw(Fake(layers=()))
    with pytest.raises(TypeError, match="dict"):
        arc_pictures.save_arc_pictures({"space": "micro"}, str(tmp_path))
    assert os.listdir(tmp_path) == []
