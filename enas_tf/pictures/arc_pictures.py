"""Pictures of architectures: Graphviz DOT text and PNG drawings made with matplotlib alone.

arc.json says exactly what was found but is hard to read; a picture is what a person checks
first. Graphviz renders DOT best but is a system binary, so the PNG is drawn by matplotlib's Agg
backend (a pip package) with a small layered layout of our own, and the DOT text is written next
to it. Both come from one graph per arc, which the arc's space builds
(`registry.arc_graph`: `enas_tf.spaces.<space>.graph`), so they show the same nodes and edges
and this module knows nothing about the spaces: micro cells as clusters drawn left to right,
the macro chain top to bottom with its skips as coloured arcs (dashed in DOT) and its pooling
steps, the RNN cell from x_t and h_{t-1} to h_t.

matplotlib is imported inside the drawing functions, so `import enas_tf.pictures.arc_pictures` stays
cheap; no pyplot, so no global backend state is touched.
"""

from __future__ import annotations

import collections
import io
import os
from typing import Any

import numpy as np

from enas_tf.runtime import files
from enas_tf.spaces import registry
from enas_tf.spaces.arc_graph import Edge, Node

_COLOURS = {"input": "#cfe2f3", "op": "#fff2cc", "output": "#d9ead3", "pool": "#e6e6e6"}
_BOX_H = 0.6  # node box height, in data units (widths follow the labels)
_BOX_STYLE = dict(boxstyle="round,pad=0,rounding_size=0.12", edgecolor="#555555", zorder=2)
_LABEL_BOX = dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="#bbbbbb")
_LABEL_STYLE = dict(ha="center", va="center", fontsize=7, zorder=4, bbox=_LABEL_BOX)
_GAP, _VGAP = 0.4, 0.25  # between neighbouring ranks / items of one rank, in data units
_DY = 1.0  # between macro layers
_ARC_RAD = 0.45  # curvature of the macro skip arcs
_INCH = 0.75  # inches per data unit: keeps the 8-point labels inside their boxes at any size
_DPI = 100
_MAX_INCHES = 60.0  # about 6000 pixels: no arc of the configs comes close

# How a picture is drawn. `zoom` scales fonts, lines and inches per data unit together (the
# layout is in data units, so the labels still fit their boxes); `edge_pt` is the edge labels'
# size before zooming (nodes: 8 points); `gap`, `vgap`, `arc_rad` and `dy` as `_GAP`, `_VGAP`,
# `_ARC_RAD` and `_DY`; `pad` is a node box's width beyond its label. `card` stacks the panels
# (micro cells), breaks long edge labels at their last "_" and turns a DAG top to bottom when
# that makes it narrower.
_Style = collections.namedtuple("_Style", "zoom edge_pt gap vgap arc_rad dy pad card")
_FILE = _Style(1.0, 7, _GAP, _VGAP, _ARC_RAD, _DY, 0.4, False)
"""arc.png: the whole arc at a fixed scale, to be opened at full size."""
_CARD = _Style(1.5, 8, 0.25, 0.15, 0.3, 0.85, 0.25, True)
"""TensorBoard: its Images dashboard fits a picture to a card about 350-500 pixels wide, so
the picture is made narrow for its font (12-point labels, tighter gaps, cells one above the
other) and scaled down it stays legible."""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def arc_to_dot(arc: Any, *, output_mode: str = "loose_ends") -> str:
    """The arc as a Graphviz digraph (`dot -Tpng arc.dot -o arc.png` renders it).

    Args:
      arc: a `MicroArc`, `MacroArc` or `RnnArc`.
      output_mode: rnn only, which nodes h_t averages ("loose_ends" or "all_but_first").

    Raises:
      TypeError: `arc` is none of the three arc types.
    """
    graph = registry.arc_graph(arc, output_mode)
    rankdir = "TB" if graph.chain else "LR"
    lines = [
        "digraph arc {",
        f"  label={_quote(graph.title)}; labelloc=t; rankdir={rankdir};",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]

    def node_line(node: Node, indent: str) -> str:
        fill = _quote(_COLOURS[node.kind])
        return f"{indent}{node.id} [label={_quote(node.label)}, fillcolor={fill}];"

    def edge_line(edge: Edge, indent: str) -> str:
        attrs = [f"label={_quote(edge.label)}"] if edge.label else []
        attrs += ["style=dashed", "constraint=false"] if edge.dashed else []
        return f"{indent}{edge.src} -> {edge.dst}" + (f" [{', '.join(attrs)}];" if attrs else ";")

    cluster_of = {node.id: node.cluster for node in graph.nodes}
    for cluster, title in graph.clusters.items():
        lines += [f"  subgraph cluster_{cluster} {{", f"    label={_quote(title)};"]
        lines += [node_line(n, "    ") for n in graph.nodes if n.cluster == cluster]
        lines += [edge_line(e, "    ") for e in graph.edges if cluster_of[e.src] == cluster]
        lines.append("  }")
    lines += [node_line(n, "  ") for n in graph.nodes if not n.cluster]
    lines += [edge_line(e, "  ") for e in graph.edges if not cluster_of[e.src]]
    return "\n".join(lines + ["}"]) + "\n"


def _box_width(label: str, font_units: float = 0.085, pad: float = 0.4) -> float:
    """Width in data units of a box holding `label` (about 0.085 units per 8-point character)."""
    return max(len(line) for line in label.split("\n")) * font_units + pad


# Where everything goes: `boxes` maps node id -> (x, y, width); per edge, `paths` holds the
# points from source to destination and `labels` the label's centre (None: unlabelled);
# `extent` is (x0, x1, y0, y1) of the drawing (x: box edges, y: box centres), in data units;
# `vertical`: the ranks run top to bottom, so edges leave and enter boxes vertically.
_Layout = collections.namedtuple("_Layout", "boxes paths labels extent vertical", defaults=(False,))


def _layered_layout(
    nodes: list[Node], edges: list[Edge], style: _Style = _FILE, vertical: bool = False
) -> _Layout:
    """A small Sugiyama layout: rank = 2 x topological depth, items spread within each rank.

    An edge spanning several ranks gets a placeholder in each rank in between (its label's box
    in the rank just before its destination), so no edge is drawn through another node's box.
    Within a rank, items are ordered by the mean position of their neighbours (barycentre
    sweeps forward, backward, forward), which untangles these small DAGs. Ranks run left to
    right, or top to bottom if `vertical`; positions are computed along and across the ranks
    and turned into x and y at the end.
    """
    preds = {node.id: [edge.src for edge in edges if edge.dst == node.id] for node in nodes}
    rank: dict[Any, int] = {}
    for node in nodes:  # topological order
        rank[node.id] = 2 + max((rank[p] for p in preds[node.id]), default=-2)
    size = {node.id: (_box_width(node.label, pad=style.pad), _BOX_H) for node in nodes}  # w, h
    label_units, line_h = 0.075 * style.edge_pt / 7, 0.18 * style.edge_pt / 7
    chains, links = [], []
    for i, edge in enumerate(edges):
        chain = [edge.src] + [(i, r) for r in range(rank[edge.src] + 1, rank[edge.dst])]
        chains.append(chain + [edge.dst])
        for key in chain[1:]:
            rank[key] = key[1]
            labelled = edge.label and key[1] == rank[edge.dst] - 1
            label_h = (2 + edge.label.count("\n")) * line_h  # 1 line: 0.36 at 7 points
            size[key] = (
                (_box_width(edge.label, label_units, 0.2), label_h) if labelled else (0.1, 0.12)
            )
        links += zip(chains[-1], chains[-1][1:], strict=False)
    along = {k: size[k][1] if vertical else size[k][0] for k in size}  # extent along the ranks
    across = {k: size[k][0] if vertical else size[k][1] for k in size}
    ranks = [[k for k in rank if rank[k] == r] for r in range(max(rank.values()) + 1)]
    order = {key: i for members in ranks for i, key in enumerate(members)}
    before, after = collections.defaultdict(list), collections.defaultdict(list)
    for a, b in links:
        before[b].append(a)
        after[a].append(b)
    down = [(r, before) for r in range(1, len(ranks))]
    up = [(r, after) for r in range(len(ranks) - 2, 0, -1)]  # inputs keep their order
    for r, near in down + up + down:
        ranks[r].sort(key=lambda k: np.mean([order[n] for n in near[k]]) if near[k] else order[k])
        order.update({key: i for i, key in enumerate(ranks[r])})
    depths = [max(along[k] for k in members) for members in ranks]
    centre, a_of = {}, [0.0]  # centre: key -> (along, across)
    for r in range(1, len(ranks)):
        a_of.append(a_of[-1] + (depths[r - 1] + depths[r]) / 2 + style.gap)
    for r, members in enumerate(ranks):
        top = (sum(across[k] for k in members) + style.vgap * (len(members) - 1)) / 2
        for key in members:
            centre[key] = (a_of[r], top - across[key] / 2)
            top -= across[key] + style.vgap
    paths, labels = [], []
    for chain, edge in zip(chains, edges, strict=True):
        (a_s, c_s), (a_d, c_d) = centre[edge.src], centre[edge.dst]
        start = (a_s + along[edge.src] / 2, c_s + _port(edge.src, chain[1], links, centre, across))
        end = (a_d - along[edge.dst] / 2, c_d + _port(edge.dst, chain[-2], links, centre, across))
        paths.append([start] + [centre[k] for k in chain[1:-1]] + [end])
        labels.append(centre[chain[-2]] if edge.label else None)

    def xy(point):  # along, across -> x, y; the first item of a rank on top / on the left
        return (-point[1], -point[0]) if vertical else point

    boxes = {node.id: (*xy(centre[node.id]), size[node.id][0]) for node in nodes}
    points = {k: xy(c) for k, c in centre.items()}
    xs = [(x - size[k][0] / 2, x + size[k][0] / 2) for k, (x, _) in points.items()]
    ys = [y for _, y in points.values()]
    extent = (min(x for x, _ in xs), max(x for _, x in xs), min(ys), max(ys))
    paths = [[xy(p) for p in path] for path in paths]
    labels = [xy(p) if p else None for p in labels]
    return _Layout(boxes, paths, labels, extent, vertical)


def _port(node: str, neighbour: Any, links: list, centre: dict, across: dict) -> float:
    """Offset across the ranks at which the edge to `neighbour` meets `node`'s box.

    A node's edges on one side spread over that side in the order of their other ends, so
    arrowheads do not pile up on one point and duplicate edges stay apart.
    """
    side = centre[neighbour][0] > centre[node][0]
    ends = {b if a == node else a for a, b in links if node in (a, b)}
    ends = sorted(
        (k for k in ends if (centre[k][0] > centre[node][0]) == side), key=lambda k: centre[k][1]
    )
    return (ends.index(neighbour) / (len(ends) - 1) - 0.5) * 0.6 * across[node] if ends[1:] else 0.0


def _chain_layout(nodes: list[Node], edges: list[Edge], style: _Style = _FILE) -> _Layout:
    """Macro: one column, top to bottom; skip edges become arcs on the two sides (`_draw`).

    Arcs from even-numbered source layers bulge to the right, from odd ones to the left, which
    halves the crowding of the published network's 98 skips. An arc's bulge grows with its
    length (matplotlib's arc3 curve), so nested skips do not sit on top of each other.
    """
    width = max(_box_width(node.label, pad=style.pad) for node in nodes)
    boxes = {node.id: (0.0, -index * style.dy, width) for index, node in enumerate(nodes)}
    paths, reach = [], 0.0
    for edge in edges:
        (_, y1, _), (_, y2, _) = boxes[edge.src], boxes[edge.dst]
        side = -1 if edge.dashed and int(edge.src.split("_")[1]) % 2 else 1
        x, inset = (side * width / 2, 0.0) if edge.dashed else (0.0, _BOX_H / 2)
        paths.append([(x, y1 - inset), (x, y2 + inset)])
        reach = max(reach, style.arc_rad / 2 * abs(y2 - y1))
    half = width / 2 + reach + 0.2
    bottom = -(len(nodes) - 1) * style.dy
    return _Layout(boxes, paths, [None] * len(paths), (-half, half, bottom, 0.0))


def _panels(graph, style: _Style, vertical: bool = False) -> list:
    """`(nodes, edges, layout, title)` per panel of `graph`: one per cluster (micro cell)."""
    panels = []
    for cluster, title in list(graph.clusters.items()) or [("", graph.title)]:
        nodes = [node for node in graph.nodes if node.cluster == cluster]
        edges = [edge for edge in graph.edges if edge.src in {node.id for node in nodes}]
        if style.card:
            edges = [edge._replace(label=_wrap(edge.label)) for edge in edges]
        layout = _layered_layout(nodes, edges, style, vertical) if not graph.chain else None
        panels.append((nodes, edges, layout or _chain_layout(nodes, edges, style), title))
    return panels


def _draw(
    ax, nodes: list[Node], edges: list[Edge], layout: _Layout, title: str, style: _Style = _FILE
) -> None:
    """Draws one panel into `ax` with equal aspect, so data units have the same size everywhere."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    zoom = style.zoom
    for node in nodes:
        x, y, width = layout.boxes[node.id]
        corner, fill = (x - width / 2, y - _BOX_H / 2), _COLOURS[node.kind]
        box = dict(_BOX_STYLE, facecolor=fill, linewidth=zoom)
        ax.add_patch(FancyBboxPatch(corner, width, _BOX_H, **box))
        ax.text(x, y, node.label, ha="center", va="center", fontsize=8 * zoom, zorder=3)
    label_style = dict(_LABEL_STYLE, fontsize=style.edge_pt * zoom)
    for edge, points, label in zip(edges, layout.paths, layout.labels, strict=True):
        style_ = dict(arrowstyle="-|>", shrinkA=0, shrinkB=0, zorder=1)
        if edge.dashed:  # a macro skip: an arc, coloured by its source layer
            side = 1 if points[0][0] > 0 else -1
            colour = f"C{int(edge.src.split('_')[1]) % 10}"
            arc = f"arc3,rad={-side * style.arc_rad}"
            style_.update(mutation_scale=7 * zoom, linewidth=0.8 * zoom, alpha=0.8)
            style_.update(connectionstyle=arc, color=colour)
            ax.add_patch(FancyArrowPatch(points[0], points[1], **style_))
            continue
        verts, codes = [points[0]], [Path.MOVETO]
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            if x0 == x1 and not layout.vertical:  # the macro chain: straight down
                verts, codes = verts + [(x1, y1)], codes + [Path.LINETO]
                continue
            # cubic pieces with tangents along the ranks: a smooth spline
            dx, dy = (0, (y1 - y0) / 2) if layout.vertical else ((x1 - x0) / 2, 0)
            verts += [(x0 + dx, y0 + dy), (x1 - dx, y1 - dy), (x1, y1)]
            codes += [Path.CURVE4] * 3
        style_.update(mutation_scale=10 * zoom, linewidth=zoom, color="#333333")
        ax.add_patch(FancyArrowPatch(path=Path(verts, codes), **style_))
        if label is not None:
            ax.text(*label, edge.label, **label_style)
    x0, x1, y0, y1 = layout.extent
    ax.set_xlim(x0 - 0.2, x1 + 0.2)
    ax.set_ylim(y0 - _BOX_H, y1 + _BOX_H)
    ax.set_aspect("equal", adjustable="box", anchor="N")  # titles of both cells level
    ax.set_title(title, fontsize=(8 if style.card else 10) * zoom)
    ax.axis("off")


def figure_png(figure) -> bytes:
    """PNG bytes of a matplotlib `Figure` rendered by Agg, cropped to its contents."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def png_to_image_tensor(png: bytes) -> np.ndarray:
    """uint8 [1, H, W, 3] RGB pixels of a PNG, the layout `tf.summary.image` takes."""
    from PIL import Image  # a dependency of matplotlib, so always there when drawing works

    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)[np.newaxis]


def _wrap(label: str, longest: int = 8) -> str:
    """A label longer than `longest` characters on two lines, broken at its last "_"."""
    head, _, tail = label.rpartition("_")
    return f"{head}\n{tail}" if head and len(label) > longest else label


def _extents(panels: list) -> tuple[list[float], list[float]]:
    """Width and height in data units of each panel, margins (`_draw`'s limits) included."""
    widths = [p[2].extent[1] - p[2].extent[0] + 0.4 for p in panels]
    heights = [p[2].extent[3] - p[2].extent[2] + 2 * _BOX_H for p in panels]
    return widths, heights


def _row_figure(panels: list):
    """arc.png's figure: the panels side by side, one axes each, at `_INCH` per data unit."""
    from matplotlib.figure import Figure

    widths, heights = _extents(panels)
    height = max(heights) * _INCH + 0.8
    width = sum(widths) * _INCH * 1.05
    figure = Figure(figsize=(min(width, _MAX_INCHES), min(height, _MAX_INCHES)))
    figure.subplots_adjust(left=0, right=1, bottom=0, top=1 - 0.7 / height, wspace=0.05)
    figure.subplots(1, len(panels), squeeze=False, gridspec_kw={"width_ratios": widths})
    return figure


def _stacked_figure(panels: list, titled: bool, zoom: float):
    """The card's figure: the panels one above the other, each centred under its title.

    Each axes is placed at exactly its panel's size (`_INCH * zoom` per data unit), so the
    equal aspect leaves no blank band between the panels.
    """
    from matplotlib.figure import Figure

    inch, room = _INCH * zoom, 0.3 * zoom  # room: inches for a title line
    widths, heights = (np.array(v) * inch for v in _extents(panels))
    width = min(widths.max(), _MAX_INCHES)
    height = min(room * titled + sum(heights + room), _MAX_INCHES)
    figure = Figure(figsize=(width, height))
    top = height - room * titled
    for w, h in zip(widths, heights, strict=True):
        top -= room + h
        figure.add_axes(((width - w) / 2 / width, top / height, w / width, h / height))
    return figure


def draw_arc(arc: Any, *, output_mode: str = "loose_ends", card: bool = False) -> bytes:
    """PNG bytes of a picture of the arc (the graph of `arc_to_dot`, laid out by us).

    The figure size follows the graph's size (a fixed number of inches per data unit), so labels
    stay legible from a 1-node cell to the 24-layer published macro network.

    Args:
      arc: a `MicroArc`, `MacroArc` or `RnnArc`.
      output_mode: rnn only, which nodes h_t averages ("loose_ends" or "all_but_first").
      card: draw for TensorBoard, whose Images dashboard shows a picture scaled down to a
        card's width (`_CARD`): larger fonts, tighter gaps, micro cells one above the other,
        a deep cell top to bottom. False: arc.png, read at full size, cells side by side.

    Raises:
      TypeError: `arc` is none of the three arc types.
      ArcError: an unknown rnn `output_mode`, or "all_but_first" for a 1-node cell.
    """
    style = _CARD if card else _FILE
    graph = registry.arc_graph(arc, output_mode)
    if style.card:  # cells one above the other, each the narrower way round
        turns = (False,) if graph.chain else (False, True)
        panels = min((_panels(graph, style, v) for v in turns), key=lambda p: max(_extents(p)[0]))
        figure = _stacked_figure(panels, bool(graph.clusters), style.zoom)
    else:
        panels = _panels(graph, style)
        figure = _row_figure(panels)
    for ax, (nodes, edges, layout, title) in zip(figure.axes, panels, strict=True):
        _draw(ax, nodes, edges, layout, title, style)
    if graph.clusters:
        figure.suptitle(graph.title, fontsize=(9 if style.card else 11) * style.zoom)
    return figure_png(figure)


def arc_image_tensor(arc: Any, *, output_mode: str = "loose_ends") -> np.ndarray:
    """The TensorBoard picture (`draw_arc(..., card=True)`) as uint8 [1, H, W, 3].

    Ready for `tf.summary.image`; drawn to stay legible at the width of a dashboard card.
    """
    return png_to_image_tensor(draw_arc(arc, output_mode=output_mode, card=True))


def save_arc_pictures(
    arc: Any, directory: str, *, output_mode: str = "loose_ends"
) -> tuple[str, str]:
    """Writes `arc.png` and `arc.dot` into `directory` (created if missing), each atomically.

    Both are rendered before either is written, so a bad arc or mode leaves the directory as
    it was, and an interrupted run never leaves a truncated picture.

    Returns:
      The paths of the PNG and of the DOT file.
    """
    png = draw_arc(arc, output_mode=output_mode)
    dot = arc_to_dot(arc, output_mode=output_mode).encode("utf-8")
    os.makedirs(directory, exist_ok=True)
    png_path, dot_path = os.path.join(directory, "arc.png"), os.path.join(directory, "arc.dot")
    files.write_bytes_atomic(png_path, png)
    files.write_bytes_atomic(dot_path, dot)
    return png_path, dot_path
