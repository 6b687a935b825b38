"""Macro-space layers: the shared (routed) layer of the supernet and the fixed layer of one arc.

A macro network (paper 2.3) is a chain of layers; layer k (1-based, the stem is layer 0) applies
its op to the output of layer k - 1 and combines the result with the outputs of the earlier
layers its skip bits select: concatenation along channels, then relu -> 1x1 conv -> batch norm
back to `filters` channels (paper appendix B, "Stabilizing Stochastic Skip Connections"; the
authors' fixed model). Skip sources are the layers *before* the op's input (0 .. k - 2), since
layer k - 1 always feeds the op, as in the authors' code.

Shared layer routing (docs/DESIGN.md rules 1-4): the op token picks a branch with
`switches.switch` (`tf.switch_case` outside XLA) over functional copies of branches that were
all built before the first step (`branch_forward` on each `MacroBranch`'s weights, in one
traced function shared by every layer of a shape); the skip combination's 1x1 convolution is a
sum of one convolution per source with its block of the kernel, each under a `tf.cond` on its
skip bit (`SkipCombine.routed`): the same value as the concatenation of the selected sources
with the matching rows of the weight, in a graph that does not depend on the arc, and an
unselected source costs nothing. (The authors' search code instead summed the selected layers;
summing and concatenating are different models, and the paper and their fixed model
concatenate.)
"""

from __future__ import annotations

import functools
from typing import Sequence

import keras
import tensorflow as tf

from enas_tf.layers import shared_functions, supernet_ops, switches
from enas_tf.layers.eager_build import BuiltByFirstCall
from enas_tf.layers.norm import batch_stat_norm
from enas_tf.layers.ops import WindowMaxPool, make_norm
from enas_tf.spaces.macro import layout as token_layout

_HE_INIT = "he_normal"


def _conv(filters: int, kernel_size: int, name: str) -> keras.layers.Conv2D:
    return keras.layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        use_bias=False,
        kernel_initializer=_HE_INIT,
        name=name,
    )


class MacroBranch(BuiltByFirstCall):
    """One candidate op of a macro layer: 1x1 conv -> BN -> relu, then the op.

    The 1x1 convolution gives every op its own projection of the input (each op of each layer
    has distinct parameters, paper 2.3). Then: a KxK convolution -> BN (`conv_KxK`), a KxK
    depthwise-separable convolution -> BN (`sep_conv_KxK`: really separable, unlike the
    original fixed model), or a 3x3 stride-1 pooling (`avg_pool_3x3`, `max_pool_3x3`: really
    pooling, which the original fixed model could not build).

    Args:
      op: one of `enas_tf.spaces.macro.OPS`.
      filters: output channels.
      search: True in the supernet (batch-statistics norm, XLA-safe max pooling; see
        `enas_tf.layers.ops.make_norm` and `WindowMaxPool`).
    """

    def __init__(self, op: str, filters: int, *, search: bool, **kw):
        super().__init__(**kw)
        self.op, self.filters, self.search = op, filters, search
        self.inp = _conv(filters, 1, "inp_conv")
        self.inp_norm = make_norm(search, "inp_bn")
        self.out_norm = None
        kind, _, size = op.rpartition("_")
        kernel_size = int(size.split("x")[0])
        if kind == "conv":
            self.body = _conv(filters, kernel_size, "conv")
            self.out_norm = make_norm(search, "bn")
        elif kind == "sep_conv":
            self.body = keras.layers.SeparableConv2D(
                filters,
                kernel_size,
                padding="same",
                use_bias=False,
                depthwise_initializer=_HE_INIT,
                pointwise_initializer=_HE_INIT,
                name="sep_conv",
            )
            self.out_norm = make_norm(search, "bn")
        elif op == "avg_pool_3x3":
            self.body = keras.layers.AveragePooling2D(3, strides=1, padding="same", name="pool")
        elif op == "max_pool_3x3":
            self.body = (
                WindowMaxPool(1, name="pool")
                if search
                else keras.layers.MaxPooling2D(3, strides=1, padding="same", name="pool")
            )
        else:
            raise ValueError(f"unknown macro op {op!r}")

    def call(self, x, training=None):
        x = tf.nn.relu(self.inp_norm(self.inp(x), training=training))
        x = self.body(x)
        if self.out_norm is not None:
            x = self.out_norm(x, training=training)
        return x

    def weight_tensors(self) -> list:
        """The branch's weights, read, in the order `branch_forward` takes them (supernet)."""
        weights = [self.inp.kernel, self.inp_norm.gamma, self.inp_norm.beta]
        if isinstance(self.body, keras.layers.SeparableConv2D):
            weights += [self.body.depthwise_kernel, self.body.pointwise_kernel]
        elif isinstance(self.body, keras.layers.Conv2D):
            weights += [self.body.kernel]
        if self.out_norm is not None:
            weights += [self.out_norm.gamma, self.out_norm.beta]
        return [tf.convert_to_tensor(w) for w in weights]

    def get_config(self):
        return {
            **super().get_config(),
            "op": self.op,
            "filters": self.filters,
            "search": self.search,
        }


def branch_forward(op: str, x, weights):
    """`MacroBranch(op, search=True)` as a function of its `weight_tensors()`."""
    epsilon = supernet_ops.EPSILON  # BatchStatNorm's
    kernel, gamma, beta, *rest = weights
    x = tf.nn.conv2d(x, kernel, strides=1, padding="SAME")
    x = tf.nn.relu(batch_stat_norm(x, gamma, beta, epsilon))
    kind = op.rpartition("_")[0]
    if kind == "conv":
        x = tf.nn.conv2d(x, rest[0], strides=1, padding="SAME")
    elif kind == "sep_conv":
        x = tf.nn.separable_conv2d(x, rest[0], rest[1], strides=[1, 1, 1, 1], padding="SAME")
    elif op == "avg_pool_3x3":
        return supernet_ops.avg_pool(x, 1)
    else:
        return supernet_ops.max_pool(x, 1)
    return batch_stat_norm(x, rest[-2], rest[-1], epsilon)


def _switch_op(x, op_token, weights, ops):
    calls = [
        functools.partial(branch_forward, op, x, branch_weights)
        for op, branch_weights in zip(ops, weights, strict=True)
    ]
    return switches.switch(op_token, calls)


# One traced function per layer shape and op list, shared by every layer of that shape
# (`enas_tf.layers.shared_functions`).
_shared_switch_op = shared_functions.shared(_switch_op)


class SkipCombine(BuiltByFirstCall):
    """concat(sources + [op output]) -> relu -> 1x1 conv -> BN, back to `filters` channels."""

    def __init__(self, filters: int, *, search: bool, **kw):
        super().__init__(**kw)
        self.filters, self.search = filters, search
        self.proj = _conv(filters, 1, "proj")
        self.norm = make_norm(search, "bn")

    def call(self, parts, training=None):
        x = tf.concat(list(parts), axis=-1) if len(parts) > 1 else parts[0]
        return self.norm(self.proj(tf.nn.relu(x)), training=training)

    def routed(self, sources, skip_bits, out, training=None):
        """The supernet's combination: `call(selected sources + [out])`, by the skip bits.

        The 1x1 convolution of a concatenation is the sum of each part's convolution with its
        block of the kernel's input rows, so each source is projected under a `tf.cond` on its
        bit and an unselected one costs nothing. (A mask multiplying every source before one
        concatenation has the same value but convolves all k - 1 sources at every step: at
        layer 12 of the macro search model, 13 x filters input channels against the fixed
        child's ~6.)
        """
        blocks = tf.split(self.proj.kernel, len(sources) + 1, axis=2)
        total = tf.nn.conv2d(tf.nn.relu(out), blocks[-1], strides=1, padding="SAME")
        for j, source in enumerate(sources):
            total += supernet_ops.projection_if(source, skip_bits[j], blocks[j])
        return self.norm(total, training=training)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "search": self.search}


class SharedMacroLayer(BuiltByFirstCall):
    """The supernet's layer k: every candidate op, routed by the arc's op token and skip bits.

    Args:
      layer: 1-based index k; the layer has k - 1 skip decisions (sources: layers 0 .. k - 2).
      filters: channels of every layer at this depth (the supernet keeps them constant).
      ops: the candidate op names, in token order (the search's op restriction).
    """

    def __init__(self, layer: int, filters: int, ops: Sequence[str], **kw):
        super().__init__(**kw)
        self.layer, self.filters, self.ops = layer, filters, tuple(ops)
        self.branches = [MacroBranch(op, filters, search=True, name=op) for op in self.ops]
        # Layer 1 has no skip sources (`num_skips`): it ends at the op's output.
        has_skips = token_layout.num_skips(layer) > 0
        self.combine = SkipCombine(filters, search=True, name="skip") if has_skips else None
        self.materializing = False  # see MacroSupernet.materialize

    def call(self, layers, op_token, skip_bits, training=None):
        """Runs the layer.

        Args:
          layers: outputs of layers 0 .. k - 1 (the stem first), all at this layer's shape.
          op_token: int32 scalar, index into `ops`.
          skip_bits: int32 [num_skips(k)], 1 = concatenate that earlier layer (`op_token` and
            `skip_bits` are `enas_tf.spaces.macro.layout.layer_tokens(arc, k)`).
          training: Keras training flag.
        """
        x = layers[-1]
        if self.materializing:  # builds every branch's variables, outside any switch
            out = [branch(x, training=training) for branch in self.branches][0]
        elif len(self.branches) == 1:
            out = self.branches[0](x, training=training)
        else:
            weights = [branch.weight_tensors() for branch in self.branches]
            out = _shared_switch_op(x, op_token, weights, self.ops)
        if self.combine is None:
            return out
        if self.materializing:
            return self.combine(list(layers[:-1]) + [out], training=training)
        return self.combine.routed(layers[:-1], skip_bits, out, training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "layer": self.layer,
            "filters": self.filters,
            "ops": list(self.ops),
        }


class FixedMacroLayer(BuiltByFirstCall):
    """Layer k of one arc, from plain Keras layers (no routing), for retraining and export.

    Args:
      layer: 1-based index k.
      filters: output channels.
      op: the arc's op for this layer.
      skips: the arc's k - 1 skip bits (sources: layers 0 .. k - 2).
    """

    def __init__(self, layer: int, filters: int, op: str, skips: Sequence[int], **kw):
        super().__init__(**kw)
        self.layer, self.filters, self.op = layer, filters, op
        self.skips = tuple(int(bit) for bit in skips)
        needed = token_layout.num_skips(layer)
        if len(self.skips) != needed:
            raise ValueError(f"layer {layer} needs {needed} skip bits, got {len(self.skips)}")
        self.branch = MacroBranch(op, filters, search=False, name=op)
        # Layer 1 has no skip decision; like the supernet it then ends at the op's output.
        self.combine = SkipCombine(filters, search=False, name="skip") if needed else None

    def call(self, layers, training=None):
        out = self.branch(layers[-1], training=training)
        if self.combine is None:
            return out
        sources = [layers[j] for j, bit in enumerate(self.skips) if bit]
        return self.combine(sources + [out], training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "layer": self.layer,
            "filters": self.filters,
            "op": self.op,
            "skips": list(self.skips),
        }
