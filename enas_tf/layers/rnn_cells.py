"""Recurrent cells of the RNN search space: the shared (routed) cell and the fixed cell of an arc.

A cell (paper 2.1, appendix A) maps `(x_t, h_{t-1})` to `h_t` through N nodes with highway
connections. Node 1 reads the input and the previous state,
`h_1 = c_1 * f_1(x_t W_x + h_{t-1} W_h) + (1 - c_1) * h_{t-1}` with
`c_1 = sigmoid(x_t W_x^c + h_{t-1} W_h^c)`; node l > 1 reads one earlier node j,
`h_l = c_l * f_l(h_j W_{l,j}) + (1 - c_l) * h_j`, `c_l = sigmoid(h_j W_{l,j}^c)`. The cell output
(and next state) averages the loose ends (the paper) or every node after the first (the
authors' enas_lm GPU code: "all_but_first"), as configured.

Shared cell routing (docs/DESIGN.md rules 1-5): the weights of node l are stacked over its possible
inputs, `[l - 1, H, 2H]`, and the arc's input index picks a slice by one-hot contraction once
per call (not per time step); the input node itself is picked from the list of node values by
the same contraction; the activation is a masked select over the four activations (all four are
cheap elementwise ops, and the gradient reaches only the chosen one). Every shape is static, so
one trace serves every cell. During the search the output is batch-normalised with batch
statistics (paper appendix A: "to stabilize the updates of w"); the fixed cell drops it.
"""

from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf

from enas_tf.layers.norm import batch_stat_norm
from enas_tf.layers.ops import contract_one_hot
from enas_tf.spaces.rnn import OUTPUT_MODES
from enas_tf.spaces.rnn import layout as token_layout

ACTIVATION_FNS = {
    "tanh": tf.tanh,
    "relu": tf.nn.relu,
    "sigmoid": tf.sigmoid,
    "identity": tf.identity,
}


def _uniform(init_range: float):
    return keras.initializers.RandomUniform(-init_range, init_range)


def one_hot_scalars(index, depth: int, dtype) -> list:
    """`one_hot(index, depth)` as `depth` scalar tensors.

    The shared cell computes these once per call (`SharedRnnCell.routing`), not in every time
    step: at the search's width (H = 200) a step's cost is mostly per-op overhead, and
    building them per node and step made the rnn supernet 1.42x its fixed child's step time
    against 1.34x now (issue #12, BUILD_NOTES.md).
    """
    return tf.unstack(tf.one_hot(index, depth, dtype=dtype))


def mix_activations(x, weights, activations: Sequence[str]):
    """`sum_i weights[i] * ACTIVATION_FNS[activations[i]](x)`: with one-hot weights, the chosen
    activation, and the gradient reaches only it."""
    pairs = zip(weights, activations, strict=True)
    return tf.add_n([w * ACTIVATION_FNS[name](x) for w, name in pairs])


def rnn_output_mask(tokens, num_nodes: int, output: str):
    """float32 [num_nodes]: the weight of each node in the cell output (sums to 1).

    Args:
      tokens: int32 [num_tokens(num_nodes)] arc tokens, laid out as `enas_tf.spaces.rnn.layout`
        says (node 1: activation; node l > 1: input index over nodes 1..l-1, then activation).
      num_nodes: N.
      output: "loose_ends" (nodes no later node reads; the paper) or "all_but_first" (nodes
        2..N, as enas_lm, whose first node is its fixed input node; node 1 when N = 1).
    """
    if output not in OUTPUT_MODES:
        raise ValueError(f"output={output!r}: must be one of {OUTPUT_MODES}")
    if num_nodes == 1:
        return tf.ones([1], tf.float32)
    if output == "all_but_first":
        weights = tf.constant([0.0] + [1.0] * (num_nodes - 1))
    else:
        # Prev token j means node j + 1, so one_hot(j, num_nodes) marks the node it reads.
        inputs = tf.stack([tokens[p] for p in token_layout.prev_positions(num_nodes)])
        used = tf.reduce_max(tf.one_hot(inputs, num_nodes, dtype=tf.float32), axis=0)
        weights = 1.0 - used
    return weights / tf.reduce_sum(weights)


class SharedRnnCell(keras.layers.Layer):
    """The supernet's recurrent cell, routed by an int32 arc tensor.

    Args:
      hidden_size: H, the width of every node and of the input.
      num_nodes: N.
      activations: the activation names in token order (the space's `ACTIVATIONS`).
      output: see `rnn_output_mask`.
      init_range: weights are initialised U(-init_range, init_range) (paper search: 0.025).
      batch_norm_output: batch-statistics normalisation of the output (search; paper app. A).
    """

    def __init__(
        self,
        hidden_size: int,
        num_nodes: int,
        activations: Sequence[str],
        *,
        output: str = "loose_ends",
        init_range: float = 0.025,
        batch_norm_output: bool = True,
        **kw,
    ):
        super().__init__(**kw)
        if output not in OUTPUT_MODES:
            raise ValueError(f"output={output!r}: must be one of {OUTPUT_MODES}")
        self.hidden_size, self.num_nodes = hidden_size, num_nodes
        self.activations = tuple(activations)
        self.output_mode, self.init_range, self.batch_norm_output = (
            output,
            init_range,
            batch_norm_output,
        )

    def build(self, input_shape=None):
        h = self.hidden_size
        self.w_first = self.add_weight(
            name="w_first", shape=(2 * h, 2 * h), initializer=_uniform(self.init_range)
        )
        self.w_nodes = [
            self.add_weight(
                name=f"w_node{node}",
                # Stacked over the node's possible inputs, as its prev token's one-hot.
                shape=(token_layout.num_prev_choices(node), h, 2 * h),
                initializer=_uniform(self.init_range),
            )
            for node in token_layout.nodes_after_first(self.num_nodes)
        ]
        if self.batch_norm_output:
            self.gamma = self.add_weight(name="gamma", shape=(h,), initializer="ones")
            self.beta = self.add_weight(name="beta", shape=(h,), initializer="zeros")
        self.built = True

    def routing(self, tokens):
        """Per-call constants of an arc: node weights, inputs, activations, output mask.

        Inputs and activations come as one-hot weights (see `one_hot_scalars`), built here
        once per call so that the time loop only multiplies by them.
        """
        dtype, depth = self.compute_dtype, len(self.activations)
        node_weights, inputs = [], []
        first = token_layout.activation_position(token_layout.FIRST_NODE)
        acts = [one_hot_scalars(tokens[first], depth, dtype)]
        for node in token_layout.nodes_after_first(self.num_nodes):
            # One one-hot of the node's input picks both its input and its weights.
            prev = tokens[token_layout.prev_position(node)]
            one_hot = tf.one_hot(prev, token_layout.num_prev_choices(node), dtype=dtype)
            inputs.append(one_hot)
            activation = tokens[token_layout.activation_position(node)]
            acts.append(one_hot_scalars(activation, depth, dtype))
            node_weights.append(contract_one_hot(one_hot, _compute(self, self.w_nodes[node - 2])))
        mask = rnn_output_mask(tokens, self.num_nodes, self.output_mode)
        return node_weights, inputs, acts, tf.cast(mask, dtype)

    def step(self, x, h_prev, routing, masks=None):
        """One time step: returns `h_t` [B, H].

        Args:
          x: [B, H] input at time t.
          h_prev: [B, H] previous state.
          routing: `routing(tokens)`.
          masks: optional (input_mask, state_mask) [B, H] variational dropout masks.
        """
        node_weights, inputs, acts, out_mask = routing
        if masks is not None:
            x, h_in = x * masks[0], h_prev * masks[1]
        else:
            h_in = h_prev
        w_first = _compute(self, self.w_first)
        candidate, gate = tf.split(tf.matmul(tf.concat([x, h_in], 1), w_first), 2, axis=1)
        nodes = [_highway(h_prev, mix_activations(candidate, acts[0], self.activations), gate)]
        for node in range(2, self.num_nodes + 1):
            source = contract_one_hot(inputs[node - 2], nodes)
            source_in = source * masks[1] if masks is not None else source
            candidate, gate = tf.split(tf.matmul(source_in, node_weights[node - 2]), 2, axis=1)
            activated = mix_activations(candidate, acts[node - 1], self.activations)
            nodes.append(_highway(source, activated, gate))
        out = tf.tensordot(out_mask, tf.stack(nodes), axes=[[0], [0]])
        if self.batch_norm_output:
            out = batch_stat_norm(out[:, None, None, :], self.gamma, self.beta, 1e-5)[:, 0, 0, :]
        return out

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_size": self.hidden_size,
            "num_nodes": self.num_nodes,
            "activations": list(self.activations),
            "output": self.output_mode,
            "init_range": self.init_range,
            "batch_norm_output": self.batch_norm_output,
        }


def _compute(layer, variable):
    """`variable` in the layer's compute dtype (bfloat16 under mixed precision).

    `step` is called inside `tf.scan`, not through `Layer.__call__`, so Keras's automatic
    casting of variables does not apply there.
    """
    return tf.cast(variable, layer.compute_dtype)


def _highway(source, activated, gate_logits):
    """`c * f + (1 - c) * source` with `c = sigmoid(gate_logits)`."""
    c = tf.sigmoid(gate_logits)
    return source + c * (activated - source)


class FixedRnnCell(keras.layers.Layer):
    """The cell of one arc, with only its own weights (plain matmuls, no routing).

    Args:
      arc: an `enas_tf.spaces.rnn.RnnArc`.
      hidden_size: H.
      output: see `rnn_output_mask`.
      init_range: U(-init_range, init_range) initialisation (paper final model: 0.04).
    """

    def __init__(self, arc, hidden_size: int, *, output="loose_ends", init_range=0.04, **kw):
        super().__init__(**kw)
        if output not in OUTPUT_MODES:
            raise ValueError(f"output={output!r}: must be one of {OUTPUT_MODES}")
        self.arc, self.hidden_size, self.output_mode, self.init_range = (
            arc,
            hidden_size,
            output,
            init_range,
        )
        self.output_nodes = arc.output_nodes(output) if arc.num_nodes > 1 else (1,)

    def build(self, input_shape=None):
        h = self.hidden_size
        self.w_first = self.add_weight(
            name="w_first", shape=(2 * h, 2 * h), initializer=_uniform(self.init_range)
        )
        self.w_nodes = [
            self.add_weight(
                name=f"w_node{node}", shape=(h, 2 * h), initializer=_uniform(self.init_range)
            )
            for node in range(2, self.arc.num_nodes + 1)
        ]
        self.built = True

    def step(self, x, h_prev, masks=None):
        """One time step: returns `h_t` [B, H] (see `SharedRnnCell.step`)."""
        nodes_spec = self.arc.nodes
        if masks is not None:
            x, h_in = x * masks[0], h_prev * masks[1]
        else:
            h_in = h_prev
        w_first = _compute(self, self.w_first)
        candidate, gate = tf.split(tf.matmul(tf.concat([x, h_in], 1), w_first), 2, axis=1)
        nodes = [_highway(h_prev, ACTIVATION_FNS[nodes_spec[0].activation](candidate), gate)]
        for node in range(2, self.arc.num_nodes + 1):
            spec = nodes_spec[node - 1]
            source = nodes[spec.prev - 1]
            source_in = source * masks[1] if masks is not None else source
            w_node = _compute(self, self.w_nodes[node - 2])
            candidate, gate = tf.split(tf.matmul(source_in, w_node), 2, axis=1)
            nodes.append(_highway(source, ACTIVATION_FNS[spec.activation](candidate), gate))
        return tf.add_n([nodes[k - 1] for k in self.output_nodes]) / len(self.output_nodes)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_size": self.hidden_size,
            "output": self.output_mode,
            "init_range": self.init_range,
        }
