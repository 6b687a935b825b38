"""Stride-2 convolutions before the stem, so large images reach the cells at a searchable size.

The paper's networks were designed for 32x32 CIFAR-10: a stride-1 stem and two reductions.
A user's 224x224 photos would run every cell of the supernet at full resolution, thousands of
times the compute for a search that only needs to compare cells. `StemReductions` halves the
input with 3x3 stride-2 conv -> BN -> ReLU steps (as the stems of NASNet's ImageNet models do)
until its longer side is at most `TARGET_SIDE` (32): none for 32x32 or smaller, one for 64x64
or 48x64, three for 224x224. How many is decided from the input shape when the layer is
built, so the supernet and every fixed child of the same data get the same stem, and images of
32x32 or less get exactly the networks (and checkpoints) they had before it existed.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from enas_tf.layers.ops import make_norm

TARGET_SIDE = 32


def halvings(height: int, width: int, target: int = TARGET_SIDE) -> int:
    """Stride-2 steps that bring max(height, width) to at most `target` (0 if it already is)."""
    longest = max(int(height), int(width))
    return max(0, math.ceil(math.log2(longest / target))) if longest > target else 0


class StemReductions(keras.layers.Layer):
    """`halvings(H, W)` steps of 3x3 stride-2 conv -> BN -> ReLU with `filters` channels."""

    def __init__(self, filters: int, *, search: bool, **kw):
        super().__init__(**kw)
        self.filters, self.search = filters, search
        self.convs, self.norms = [], []

    def build(self, input_shape):
        height, width, channels = (int(d) for d in input_shape[1:])
        for i in range(halvings(height, width)):
            conv = keras.layers.Conv2D(
                self.filters,
                3,
                strides=2,
                padding="same",
                use_bias=False,
                kernel_initializer="he_normal",
                name=f"reduce{i}",
            )
            norm = make_norm(self.search, f"reduce{i}_bn")
            conv.build((input_shape[0], height, width, channels))
            height, width, channels = -(-height // 2), -(-width // 2), self.filters
            norm.build((input_shape[0], height, width, channels))
            self.convs.append(conv)
            self.norms.append(norm)

    def call(self, images, training=None):
        x = images
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = tf.nn.relu(norm(conv(x), training=training))
        return x

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "search": self.search}
