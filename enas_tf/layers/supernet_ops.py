"""Functional micro ops on stacked weights, for the shared supernet.

The supernet keeps one weight *stack* per kind and cell (e.g. the first depthwise kernel of
every 3x3 separable conv of the cell, all (node, side, input) slots in one variable) instead of
one Keras layer per candidate op. A cell picks the slots its arc uses with one small
contraction per stack (`select_rows`), then runs plain functions on the picked tensors inside
its `tf.switch_case` branches. This keeps the graph, the variable count and the optimizer's
update ops independent of nodes x sides x ops x inputs (issue #12, BUILD_NOTES.md): the paper's
search model went from ~1,400 variables to ~200.

Every function here computes exactly what the matching Keras layer of `enas_tf.layers.ops`
computes with the same weights (tests/supernet_ops_test.py), so a supernet slot and the fixed
child's op are the same function.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from enas_tf.layers import shared_functions
from enas_tf.layers.norm import batch_stat_norm
from enas_tf.layers.ops import window_max_pool

EPSILON = 1e-5  # Batch-norm epsilon of every op (as `make_norm`'s layers).

# Names of the eight weights of one separable-conv slot, in `sep_conv`'s argument order.
SEP_WEIGHTS = (
    "depthwise_0",
    "pointwise_0",
    "gamma_0",
    "beta_0",
    "depthwise_1",
    "pointwise_1",
    "gamma_1",
    "beta_1",
)
# Names of the four weights of one factorized-reduction slot.
REDUCE_WEIGHTS = ("path_0", "path_1", "gamma", "beta")


def stacked_he_normal(num: int):
    """He-normal initialisation of each of `num` stacked kernels, as if each were one kernel.

    Keras' `HeNormal` on the whole stack would count the stack axis into the fan-in; this draws
    the whole stack at once (one op: the build of the paper's search model creates ~130
    stacks) from the truncated normal `HeNormal` uses for one slice: stddev
    sqrt(2 / fan_in) / 0.8796 (the truncation's correction), fan_in = receptive field x input
    channels.
    """

    def init(shape, dtype=None):
        if int(shape[0]) != num:
            raise ValueError(f"expected a stack of {num} kernels, got shape {shape}")
        fan_in = math.prod(int(d) for d in shape[1:-1])
        stddev = math.sqrt(2.0 / fan_in) / 0.87962566103423978
        return keras.initializers.TruncatedNormal(stddev=stddev)(shape, dtype=dtype)

    return init


def sep_weight_shapes(kernel_size: int, filters: int) -> dict[str, tuple[int, ...]]:
    """Shapes of one separable-conv slot's weights (input channels = filters in a cell)."""
    k, f = kernel_size, filters
    conv = {"depthwise": (k, k, f, 1), "pointwise": (1, 1, f, f)}
    norm = {"gamma": (f,), "beta": (f,)}
    return {name: {**conv, **norm}[name[:-2]] for name in SEP_WEIGHTS}


def reduce_weight_shapes(filters: int) -> dict[str, tuple[int, ...]]:
    """Shapes of one factorized-reduction slot's weights."""
    half = filters // 2
    return {
        "path_0": (1, 1, filters, half),
        "path_1": (1, 1, filters, half),
        "gamma": (filters,),
        "beta": (filters,),
    }


def select_rows(stacked, rows):
    """`stacked[rows]` for an int32 vector `rows`, as a one-hot contraction.

    One matmul picks every slot a cell uses; its gradient is one dense matmul into the stack
    (zero outside the picked rows), so the optimizer sees plain dense gradients of fixed shape
    (XLA/TPU) and no `IndexedSlices`. Doing it once per cell, outside the switch branches,
    means a branch's gradient is the size of one slot, not of the whole stack.
    """
    num = int(stacked.shape[0])
    one_hot = tf.one_hot(rows, num, dtype=stacked.dtype)  # [len(rows), num]
    flat = tf.reshape(stacked, [num, -1])
    picked = tf.matmul(one_hot, flat)
    return tf.reshape(picked, [-1, *stacked.shape[1:]])


def sep_conv(x, weights, strides: int):
    """relu -> depthwise -> pointwise -> batch-stat norm, twice (`StackedSepConv`).

    Args:
      x: [N, H, W, C] input.
      weights: the eight tensors named by `SEP_WEIGHTS`, in that order.
      strides: stride of the first depthwise conv.
    """
    for i in range(2):
        depthwise, pointwise, gamma, beta = weights[4 * i : 4 * i + 4]
        step = strides if i == 0 else 1
        x = tf.nn.separable_conv2d(
            tf.nn.relu(x), depthwise, pointwise, strides=[1, step, step, 1], padding="SAME"
        )
        x = batch_stat_norm(x, gamma, beta, EPSILON)
    return x


def factorized_reduce(x, weights):
    """relu, two 1x1 stride-2 convs (one on the input shifted by a pixel), concat, norm.

    Same computation as `enas_tf.layers.ops.FactorizedReduce` with batch statistics.

    Args:
      x: [N, H, W, C] input.
      weights: the four tensors named by `REDUCE_WEIGHTS`, in that order.
    """
    path_0, path_1, gamma, beta = weights
    x = tf.nn.relu(x)
    shifted = tf.pad(tf.slice(x, [0, 1, 1, 0], [-1, -1, -1, -1]), [[0, 0], [0, 1], [0, 1], [0, 0]])
    out = tf.concat(
        [
            tf.nn.conv2d(x, path_0, strides=2, padding="VALID"),
            tf.nn.conv2d(shifted, path_1, strides=2, padding="VALID"),
        ],
        axis=-1,
    )
    return batch_stat_norm(out, gamma, beta, EPSILON)


def avg_pool(x, strides: int):
    """3x3 'same' average pooling (padding not counted, as Keras' `AveragePooling2D`)."""
    return tf.nn.avg_pool2d(x, 3, strides, "SAME")


def max_pool(x, strides: int):
    """3x3 'same' max pooling that XLA compiles inside a switch branch (`WindowMaxPool`).

    Outside an XLA-compiled step it runs as its own small XLA computation: TensorFlow's
    executor would run its gradient as ~20 separate full-size passes (selects, pads,
    comparisons), which were the largest item of the paper micro supernet's CPU step at batch
    160 (~1.3 s of op time, more than all its convolutions); XLA fuses them (1,903 -> 1,428
    ms/step there; BUILD_NOTES.md). TensorFlow's own max-pool kernels are no better inside a
    switch branch: the oneDNN forward/backward pair cannot form across branch functions.
    """
    if shared_functions.in_xla_context():
        return window_max_pool(x, strides)
    return _fused_window_max_pool(x, strides)


_fused_window_max_pool = tf.function(window_max_pool, jit_compile=True, autograph=False)
