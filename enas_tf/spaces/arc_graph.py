"""An architecture as a plain graph: what a picture of it shows, without drawing it.

Each space says what its arcs look like as a graph (`<space>/graph.py`: micro cells with their
inputs, add nodes and concatenated loose ends; the macro chain with skips and pooling steps; the
RNN cell from x_t and h_{t-1} to the averaged h_t), and `registry.arc_graph` picks the space of
an arc. `enas_tf.pictures.arc_pictures` turns the graph into Graphviz DOT text and a PNG; it
knows nothing about the spaces.
"""

from __future__ import annotations

import collections

Node = collections.namedtuple("Node", "id label kind cluster", defaults=("",))
Node.__doc__ = """One box. `kind` is "input", "op", "output" or "pool" (its colour); `cluster`
names the group it belongs to (a micro cell), empty when the graph has one group."""

Edge = collections.namedtuple("Edge", "src dst label dashed", defaults=("", False))
Edge.__doc__ = """An arrow from node id `src` to `dst`, labelled (an op) or not; `dashed` for
connections off the main path (macro skips)."""

ArcGraph = collections.namedtuple("ArcGraph", "nodes edges clusters title chain")
ArcGraph.__doc__ = """Nodes in topological order, edges, `clusters` (cluster -> title; empty for
one panel titled `title`), and `chain`: True when the nodes form one chain drawn top to bottom
(the macro network), False for a DAG drawn left to right (cells)."""


def count(number: int, noun: str) -> str:
    """ "1 node", "3 nodes": for titles."""
    return f"{number} {noun}{'s' * (number != 1)}"
