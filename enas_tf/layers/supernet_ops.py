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

import functools
import math

import keras
import tensorflow as tf

from enas_tf.layers import shared_functions
from enas_tf.layers.norm import batch_stat_norm
from enas_tf.layers.ops import spatial_size, window_max_pool, window_max_pool_subsample

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


def row_selector(rows, num_rows: int):
    """The one-hot [len(rows), num_rows] matrix that `select_rows` contracts with.

    Built once per cell and shared by all of its stacks (one `OneHot` instead of one per
    stack: fewer ops to trace in every step, issue #12).
    """
    return tf.one_hot(rows, num_rows)


def select_rows(stacked, selector):
    """`stacked[rows]` as a contraction with `row_selector(rows, len(stacked))`.

    One matmul picks every slot a cell uses; its gradient is one dense matmul into the stack
    (zero outside the picked rows), so the optimizer sees plain dense gradients of fixed shape
    (XLA/TPU) and no `IndexedSlices`. Doing it once per cell, outside the switch branches,
    means a branch's gradient is the size of one slot, not of the whole stack.
    """
    num = int(stacked.shape[0])
    flat = tf.reshape(stacked, [num, -1])
    picked = tf.matmul(tf.cast(selector, stacked.dtype), flat)
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
    """3x3 'same' max pooling whose gradient keeps only its input (`_routed_max_pool`).

    Outside XLA (CPU, GPU) it is TensorFlow's own pooling, forward and backward as the fixed
    child runs them: the backward is `MaxPoolGrad` beside a recomputed forward in one small
    function, which lets oneDNN pair the two (`_native_max_pool_input_grad_fn`). Inside an
    XLA-compiled step (the TPU form) it is the window maxima of `window_max_pool`, with the
    gradient `_max_pool_input_grad`: XLA fails to compile `MaxPoolGrad` inside a switch
    branch's gradient (BUILD_NOTES.md, issues #12 and #27).
    """
    return _SHARED_MAX_POOLS[strides](x)


def _projection_if(source, bit, kernel_block):
    """relu -> 1x1 conv of `source` if `bit` is set, else zeros of the output's shape.

    One block of a 1x1 convolution over a concatenation: the convolution of the concatenation
    is the sum of each part's convolution with its block of the kernel's input rows, so a part
    the arc leaves out costs nothing (macro skip sources, micro loose ends).

    Inside XLA the zeros are `zeros_like(source)` (the blocks keep the channel count in both
    supernets): zeros of the run-time batch size aborted XLA's dynamic-dimension inference
    there (a CHECK failure in the micro XLA test, issue #27). Outside XLA their shape is
    computed at run time, as since issue #12.
    """
    if shared_functions.in_xla_context() and source.shape[-1] == kernel_block.shape[-1]:
        zeros = functools.partial(tf.zeros_like, source)
    else:
        shape = tf.stack([tf.shape(source)[0], *source.shape[1:3], kernel_block.shape[-1]])
        zeros = functools.partial(tf.zeros, shape, source.dtype)
    return tf.cond(
        bit > 0,
        lambda: tf.nn.conv2d(tf.nn.relu(source), kernel_block, strides=1, padding="SAME"),
        zeros,
    )


# One traced function per source shape, shared by every call site.
projection_if = shared_functions.shared(_projection_if)


def _routed_max_pool(x, strides: int):
    """Max pooling with a custom gradient that saves `x` and nothing else.

    TensorFlow's automatic gradient of the windowed maximum keeps every shifted slice and
    partial maximum for the backward pass, eight full-size tensors per pooling op: with
    max pooling chosen everywhere, the paper micro search step at batch 160 peaked at 10.9 GB
    and took 3.4x as long as with average pooling everywhere (BUILD_NOTES.md). The backward
    pass recomputes the window maxima from `x` instead.

    Runs as its own traced function (`shared_functions.shared`): the custom gradient reads
    `x`, which must be a tensor of the graph that holds the pooling. Called directly inside a
    switch branch, `x` would be the caller's tensor, which the switch's gradient cannot read.
    """
    if shared_functions.in_xla_context():
        forward, input_grad = window_max_pool, _max_pool_input_grad
    else:
        forward, input_grad = _native_max_pool, _native_max_pool_input_grad

    @tf.custom_gradient
    def pool(x):
        def grad(dy):
            return input_grad(x, dy, strides)

        return forward(x, strides), grad

    return pool(x)


def _max_pool_input_grad(x, dy, strides: int):
    """Gradient of 3x3 'same' max pooling with respect to its input, from `x` and `dy` only.

    Each output's gradient goes to the first maximum of its window in row-major order, as
    TensorFlow's `MaxPoolGrad` routes it on CPU (so ties agree too). Strided outputs are
    first scattered to their window centres on the input grid (the adjoint of the strided
    subsampling in `window_max_pool`), so one stride-1 pass serves both strides.
    """
    height, width = spatial_size(x)
    if strides > 1:
        dy = _scatter_to_centres(x, dy, strides)
    centre_max = window_max_pool(x, 1)
    lowest = tf.constant(x.dtype.min, x.dtype)
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=lowest)
    taken = tf.zeros_like(x, dtype=tf.bool)
    padded_grad = tf.zeros_like(padded)
    for row in range(3):
        for col in range(3):
            candidate = tf.slice(padded, [0, row, col, 0], [-1, height, width, -1])
            hit = tf.logical_and(tf.equal(candidate, centre_max), tf.logical_not(taken))
            taken = tf.logical_or(taken, hit)
            routed = tf.where(hit, dy, tf.zeros_like(dy))
            padded_grad += tf.pad(routed, [[0, 0], [row, 2 - row], [col, 2 - col], [0, 0]])
    return tf.slice(padded_grad, [0, 1, 1, 0], [-1, height, width, -1])


def _scatter_to_centres(x, dy, strides: int):
    """The adjoint of `window_max_pool`'s strided subsampling: `dy` at its windows' centres."""
    with tf.GradientTape() as tape:
        centres = tf.zeros_like(x)
        tape.watch(centres)
        subsampled = window_max_pool_subsample(centres, strides)
    return tape.gradient(subsampled, centres, output_gradients=dy)


def _native_max_pool(x, strides: int):
    return tf.nn.max_pool2d(x, 3, strides, "SAME")


def _native_max_pool_input_grad_fn(x, dy, strides: int):
    """TensorFlow's `MaxPoolGrad` with its forward recomputed beside it, in one function.

    oneDNN's backward pooling needs its forward's workspace: the graph rewrite pairs a
    `MaxPoolGrad` with the `MaxPool` that feeds its `orig_output` only within one graph, so
    recomputing the forward here (a cheap op) is what lets both run as oneDNN kernels."""
    pooled = _native_max_pool(x, strides)
    return tf.raw_ops.MaxPoolGrad(
        orig_input=x,
        orig_output=pooled,
        grad=dy,
        ksize=[1, 3, 3, 1],
        strides=[1, strides, strides, 1],
        padding="SAME",
    )


_native_max_pool_input_grad = shared_functions.shared(_native_max_pool_input_grad_fn)
_SHARED_MAX_POOLS = {
    strides: shared_functions.shared(functools.partial(_routed_max_pool, strides=strides))
    for strides in (1, 2)
}
