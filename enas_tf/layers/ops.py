"""The convolutional building blocks of ENAS image models (paper appendix B).

Every op follows the paper's relu -> conv -> batch-norm order. The same classes serve the shared
supernet (`search=True`) and the fixed child (`search=False`); the only difference is the
normalisation layer (see `make_norm`).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from enas_tf.layers.eager_build import BuiltByFirstCall
from enas_tf.layers.norm import BatchStatNorm

_HE_INIT = "he_normal"  # The paper initialises the shared weights with He initialisation.


def make_norm(search: bool, name: str) -> keras.layers.Layer:
    """Returns the normalisation layer of an op.

    Args:
      search: True inside the shared supernet. Shared batch-norm moving statistics would average
        over thousands of different architectures and mean nothing, and updating them would put
        state updates inside `tf.switch_case` branches; the supernet therefore always normalises
        with the statistics of the current batch (`BatchStatNorm`), as the original code did when
        it scored children for the controller. Fixed children use Keras batch norm with
        `synchronized=True`: under a multi-replica strategy the training statistics are those
        of the global batch (all-reduced), as on one device, so every replica applies the
        same moving-statistics update. Unsynchronised, each replica would move its own copy
        towards its own shard's statistics (Keras creates them with aggregation NONE), the
        copies would drift apart, and evaluation and checkpoints would depend on which
        replica's copy they read. Under the default strategy the all-reduce is the identity.
      name: layer name.
    """
    if search:
        return BatchStatNorm(name=name)
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, synchronized=True, name=name)


class ReluConvBN(BuiltByFirstCall):
    """ReLU, a plain KxK convolution (no bias), batch norm."""

    def __init__(self, filters: int, kernel_size: int, strides: int = 1, *, search: bool, **kw):
        super().__init__(**kw)
        self.filters, self.kernel_size, self.strides, self.search = (
            filters,
            kernel_size,
            strides,
            search,
        )
        self.conv = keras.layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            padding="same",
            use_bias=False,
            kernel_initializer=_HE_INIT,
            name="conv",
        )
        self.norm = make_norm(search, "bn")

    def call(self, x, training=None):
        return self.norm(self.conv(tf.nn.relu(x)), training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "search": self.search,
        }


class StackedSepConv(BuiltByFirstCall):
    """A depthwise-separable convolution applied twice (NASNet/ENAS micro cells).

    Each application is relu -> depthwise KxK -> pointwise 1x1 -> batch norm; only the first one
    carries the stride.
    """

    def __init__(self, filters: int, kernel_size: int, strides: int = 1, *, search: bool, **kw):
        super().__init__(**kw)
        self.filters, self.kernel_size, self.strides, self.search = (
            filters,
            kernel_size,
            strides,
            search,
        )
        self.convs = [
            keras.layers.SeparableConv2D(
                filters,
                kernel_size,
                strides=strides if i == 0 else 1,
                padding="same",
                use_bias=False,
                depthwise_initializer=_HE_INIT,
                pointwise_initializer=_HE_INIT,
                name=f"sep_{i}",
            )
            for i in range(2)
        ]
        self.norms = [make_norm(search, f"bn_{i}") for i in range(2)]

    def call(self, x, training=None):
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = norm(conv(tf.nn.relu(x)), training=training)
        return x

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "search": self.search,
        }


def select_slice(stacked, index):
    """`stacked[index]` for an int32 scalar tensor, as a one-hot contraction.

    Unlike `tf.gather`, whose gradient is `IndexedSlices`, the gradient is a dense tensor of the
    variable's shape (zero outside slice `index`): fixed shapes for XLA/TPU and plain dense
    updates in the optimizer.
    """
    num = int(stacked.shape[0])
    if num == 1:
        return stacked[0]
    return contract_one_hot(tf.one_hot(index, num, dtype=stacked.dtype), stacked)


def contract_one_hot(one_hot, stacked):
    """`stacked[index]` given `one_hot = one_hot(index, len(stacked))`, as `select_slice` does.

    For callers that build an index's one-hot once and select with it several times (the rnn
    cell picks a node's input and its weights with one one-hot per call). `stacked` is a
    tensor or a list of same-shape tensors (stacked here).
    """
    num = len(stacked) if isinstance(stacked, (list, tuple)) else int(stacked.shape[0])
    if num == 1:
        return stacked[0]
    if isinstance(stacked, (list, tuple)):
        stacked = tf.stack(stacked)
    return tf.tensordot(one_hot, stacked, axes=[[0], [0]])


class FactorizedReduce(BuiltByFirstCall):
    """Halves the spatial size without losing every other pixel.

    Two 1x1 stride-2 convolutions, the second on the input shifted by one pixel, concatenated
    (each gives half of the filters) and batch-normalised. Used where a stride-2 identity is
    needed and to bring an earlier cell's output to the current resolution.
    """

    def __init__(self, filters: int, *, search: bool, **kw):
        super().__init__(**kw)
        if filters % 2:
            raise ValueError(f"FactorizedReduce needs an even number of filters, got {filters}")
        self.filters, self.search = filters, search
        self.convs = [
            keras.layers.Conv2D(
                filters // 2,
                1,
                strides=2,
                padding="valid",
                use_bias=False,
                kernel_initializer=_HE_INIT,
                name=f"path_{i}",
            )
            for i in range(2)
        ]
        self.norm = make_norm(search, "bn")

    def call(self, x, training=None):
        x = tf.nn.relu(x)
        # `tf.slice`, not `x[:, 1:, 1:]`: the gradient of the latter is `StridedSliceGrad`,
        # which took ~20% of a CPU training step of the fixed child (BUILD_NOTES.md).
        shifted = tf.pad(
            tf.slice(x, [0, 1, 1, 0], [-1, -1, -1, -1]), [[0, 0], [0, 1], [0, 1], [0, 0]]
        )
        out = tf.concat([self.convs[0](x), self.convs[1](shifted)], axis=-1)
        return self.norm(out, training=training)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "search": self.search}


def window_max_pool(x, strides: int = 1):
    """3x3 'same' max pooling as maxima over shifted slices (see `WindowMaxPool`)."""
    height, width = spatial_size(x)
    lowest = tf.constant(x.dtype.min, x.dtype)
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=lowest)
    rows = tf.slice(padded, [0, 0, 0, 0], [-1, height, -1, -1])
    for dy in (1, 2):
        rows = tf.maximum(rows, tf.slice(padded, [0, dy, 0, 0], [-1, height, -1, -1]))
    out = tf.slice(rows, [0, 0, 0, 0], [-1, -1, width, -1])
    for dx in (1, 2):
        out = tf.maximum(out, tf.slice(rows, [0, 0, dx, 0], [-1, -1, width, -1]))
    return window_max_pool_subsample(out, strides)


def spatial_size(x):
    """(height, width) of an NHWC tensor: Python ints when static (the supernets' shapes always
    are), so slices take constant sizes instead of ops computing them (fewer graph nodes to
    trace, issue #12); tensors otherwise."""
    static = x.shape[1:3]
    if static.is_fully_defined():
        return int(static[0]), int(static[1])
    return tf.shape(x)[1], tf.shape(x)[2]


def window_max_pool_subsample(centred, strides: int):
    """The strided 'same' pooling output from window maxima centred on every pixel.

    TF 'SAME' puts the odd padding pixel at the bottom/right: windows start at 0 on even
    sizes (offset 1 in `centred`) and at -1 on odd ones. The subsampling is a 1x1 average
    pool (a copy) rather than a strided slice, for the same reason as the shifts in
    `window_max_pool`: `AvgPoolGrad` is cheap, `StridedSliceGrad` is not, and XLA compiles
    both.
    """
    if strides == 1:
        return centred
    offsets = [1 - _same_pad_top(int(centred.shape[axis]), strides) for axis in (1, 2)]
    centred = tf.slice(centred, [0, offsets[0], offsets[1], 0], [-1, -1, -1, -1])
    return tf.nn.avg_pool2d(centred, 1, strides, "SAME")


def _same_pad_top(size: int, strides: int) -> int:
    output = -(-size // strides)
    return max((output - 1) * strides + 3 - size, 0) // 2


class WindowMaxPool(keras.layers.Layer):
    """3x3 'same' max pooling as maxima over shifted slices of the padded input.

    Same values as `keras.layers.MaxPooling2D(3, padding="same")` (padding never wins the max),
    but its gradient is elementwise selects and pads instead of `MaxPoolGrad`. Used in the
    supernet because XLA fails to compile `MaxPoolGrad` (select-and-scatter) inside the gradient
    of a `tf.switch_case` branch (value-inference RET_CHECK in TF 2.21; see BUILD_NOTES.md).

    The window is separable (max over 3 rows, then over 3 columns: 4 maxima instead of 8), and
    the shifts are `tf.slice`, whose gradient is a cheap `Pad`; Python slicing would give
    `StridedSlice`, whose gradient (`StridedSliceGrad`) was 25% of the supernet's CPU step time.
    It is also faster than Keras' pooling *inside a switch branch* on CPU: there the oneDNN
    kernels are not substituted and the plain `MaxPoolGrad` costs ~4x this layer's whole
    backward pass (profile in BUILD_NOTES.md).
    """

    def __init__(self, strides: int = 1, **kw):
        super().__init__(**kw)
        self.strides = strides

    def call(self, x):
        return window_max_pool(x, self.strides)

    def get_config(self):
        return {**super().get_config(), "strides": self.strides}


def make_micro_op(
    op: str,
    filters: int,
    strides: int,
    *,
    search: bool,
    name: str,
):
    """Builds one candidate op of the micro space.

    Args:
      op: one of `enas_tf.spaces.micro.OPS`.
      filters: output channels (inputs of a cell are already calibrated to this).
      strides: 2 for ops applied to a reduction cell's inputs, else 1.
      search: see `make_norm`.
      name: layer name.

    Returns:
      A Keras layer; identity with stride 2 is a factorized reduction.
    """
    if op in ("sep_conv_3x3", "sep_conv_5x5"):
        kernel_size = 3 if op == "sep_conv_3x3" else 5
        return StackedSepConv(filters, kernel_size, strides, search=search, name=name)
    if op == "avg_pool_3x3":
        return keras.layers.AveragePooling2D(3, strides=strides, padding="same", name=name)
    if op == "max_pool_3x3":
        if search:
            return WindowMaxPool(strides, name=name)
        return keras.layers.MaxPooling2D(3, strides=strides, padding="same", name=name)
    if op == "identity":
        if strides == 1:
            return keras.layers.Identity(name=name)
        return FactorizedReduce(filters, search=search, name=name)
    raise ValueError(f"unknown micro op {op!r}")
