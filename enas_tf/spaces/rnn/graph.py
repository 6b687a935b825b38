"""An RNN cell as a graph: from x_t and h_{t-1} through the nodes to the averaged h_t.

x_t and h_{t-1} feed node 1; node j -> node l is labelled with node l's activation; the
averaged nodes (`RnnArc.output_nodes(output_mode)`) feed h_t.
"""

from __future__ import annotations

from enas_tf.spaces.arc_graph import ArcGraph, Edge, Node, count
from enas_tf.spaces.rnn.arc import RnnArc


def arc_graph(arc: RnnArc, output_mode: str = "loose_ends") -> ArcGraph:
    """The graph of `arc`; `output_mode` says which nodes h_t averages.

    Raises:
      ArcError: an unknown `output_mode`, or "all_but_first" for a 1-node cell.
    """
    outputs = arc.output_nodes(output_mode)
    nodes = [Node("x_t", "x_t", "input"), Node("h_prev", "h_{t-1}", "input")]
    first = arc.nodes[0].activation
    edges = [Edge("x_t", "node_1", first), Edge("h_prev", "node_1", first)]
    for number, node in enumerate(arc.nodes, start=1):
        nodes.append(Node(f"node_{number}", f"node {number}", "op"))
        if number > 1:
            edges.append(Edge(f"node_{node.prev}", f"node_{number}", node.activation))
    nodes.append(Node("h_t", "h_t\nmean", "output"))
    edges += [Edge(f"node_{number}", "h_t") for number in outputs]
    mean = f"node{'s' * (len(outputs) > 1)} {', '.join(map(str, outputs))}"
    title = f"rnn cell, {count(arc.num_nodes, 'node')}, h_t = mean of {mean}"
    return ArcGraph(tuple(nodes), tuple(edges), {}, title, chain=False)
