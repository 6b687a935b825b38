"""A micro arc as a graph: one cluster per cell, an add node per computed node.

The inputs c_{k-2}, c_{k-1}, an "add" node per computed node with an op-labelled edge from each
operand, and the loose ends concatenated into the cell's output.
"""

from __future__ import annotations

from enas_tf.spaces.arc_graph import ArcGraph, Edge, Node, count
from enas_tf.spaces.micro.arc import MicroArc
from enas_tf.spaces.micro.layout import NUM_CELL_INPUTS


def arc_graph(arc: MicroArc, output_mode: str = "loose_ends") -> ArcGraph:
    """The graph of `arc` (`output_mode` is the RNN space's; a micro cell concatenates)."""
    del output_mode
    nodes, edges, clusters = [], [], {}
    for name, cell in arc.cells():
        stride = " (ops on c_{k-2}, c_{k-1} at stride 2)" if name == "reduction" else ""
        clusters[name] = f"{name} cell{stride}"
        nodes += [Node(f"{name}_{i}", f"c_{{k-{2 - i}}}", "input", name) for i in (0, 1)]
        for k, node in enumerate(cell.nodes, start=NUM_CELL_INPUTS):
            nodes.append(Node(f"{name}_{k}", f"node {k}\nadd", "op", name))
            edges.append(Edge(f"{name}_{node.input_a}", f"{name}_{k}", node.op_a))
            edges.append(Edge(f"{name}_{node.input_b}", f"{name}_{k}", node.op_b))
        nodes.append(Node(f"{name}_concat", "concat", "output", name))
        edges += [Edge(f"{name}_{k}", f"{name}_concat") for k in cell.loose_ends()]
    title = f"micro arc, {count(arc.num_nodes, 'node')} per cell"
    return ArcGraph(tuple(nodes), tuple(edges), clusters, title, chain=False)
