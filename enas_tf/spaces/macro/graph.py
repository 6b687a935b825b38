"""A macro arc as a graph: the chain of layers, its skip connections and pooling steps.

The chain stem -> layer 1 -> ... -> layer L labelled with the ops, skip edges (dashed) and the
pooling steps. The arc does not store where the network pools; `layout.pool_after` places the
steps by the number of layers alone, the same rule the models use. A pooling step halves every
output so far, so skip edges that cross it carry reduced maps.
"""

from __future__ import annotations

from enas_tf.spaces.arc_graph import ArcGraph, Edge, Node, count
from enas_tf.spaces.macro.arc import MacroArc
from enas_tf.spaces.macro.layout import pool_after


def arc_graph(arc: MacroArc, output_mode: str = "loose_ends") -> ArcGraph:
    """The graph of `arc` (`output_mode` is the RNN space's; unused here)."""
    del output_mode
    nodes, edges = [Node("layer_0", "stem\nconv_3x3", "input")], []
    pools = pool_after(arc.num_layers)
    previous = "layer_0"
    for number, layer in enumerate(arc.layers, start=1):
        nodes.append(Node(f"layer_{number}", f"layer {number}\n{layer.op}", "op"))
        edges.append(Edge(previous, f"layer_{number}"))
        edges += [Edge(f"layer_{j}", f"layer_{number}", dashed=True) for j in layer.skip_sources()]
        previous = f"layer_{number}"
        if number in pools:
            nodes.append(Node(f"pool_{number}", "pooling step\nhalf resolution", "pool"))
            edges.append(Edge(previous, f"pool_{number}"))
            previous = f"pool_{number}"
    skips = sum(len(layer.skip_sources()) for layer in arc.layers)
    title = f"macro arc, {count(arc.num_layers, 'layer')}, {count(skips, 'skip connection')}"
    return ArcGraph(tuple(nodes), tuple(edges), {}, title, chain=True)
