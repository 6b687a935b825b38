"""Classifier heads shared by the supernet and the fixed children."""

from __future__ import annotations

import keras
import tensorflow as tf

from enas_tf.layers.eager_build import BuiltByFirstCall
from enas_tf.layers.ops import make_norm


class AuxHead(keras.layers.Layer):
    """Auxiliary classifier (Szegedy et al.) attached after the last reduction cell.

    relu -> 5x5 average pool (stride 3) -> 1x1 conv 128 -> BN -> relu -> conv 768 over the whole
    remaining map -> BN -> relu -> dense. On small maps the pool shrinks to the map size so the
    head works for any input resolution. Its loss is added with a weight (0.4 in the paper's
    final training); unlike the original code, its variables are trained.
    """

    def __init__(self, num_classes: int, *, search: bool, **kw):
        super().__init__(**kw)
        self.num_classes, self.search = num_classes, search
        self.proj = keras.layers.Conv2D(128, 1, use_bias=False, name="proj")
        self.proj_norm = make_norm(search, "proj_bn")
        self.norm = make_norm(search, "bn")
        # float32 logits under mixed precision (the loss and softmax want full precision).
        self.dense = keras.layers.Dense(num_classes, name="logits", dtype="float32")

    def build(self, input_shape):
        height, width, channels = (int(d) for d in input_shape[1:])
        pool = min(5, height, width)
        self.pool = keras.layers.AveragePooling2D(pool, strides=min(3, pool), padding="valid")
        pooled = (
            input_shape[0],
            (height - pool) // min(3, pool) + 1,
            (width - pool) // min(3, pool) + 1,
        )
        self.proj.build((*pooled, channels))
        self.proj_norm.build((*pooled, 128))
        self.conv = keras.layers.Conv2D(768, pooled[1:], use_bias=False, name="conv")
        self.conv.build((*pooled, 128))
        self.norm.build((input_shape[0], 1, 1, 768))
        self.dense.build((input_shape[0], 768))

    def call(self, x, training=None):
        x = self.pool(tf.nn.relu(x))
        x = tf.nn.relu(self.proj_norm(self.proj(x), training=training))
        x = tf.nn.relu(self.norm(self.conv(x), training=training))
        return self.dense(tf.reshape(x, [-1, 768]))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "search": self.search}


class ClassifierHead(BuiltByFirstCall):
    """relu -> global average pooling -> dropout -> dense logits (paper appendix B)."""

    def __init__(self, num_classes: int, keep_prob: float, **kw):
        super().__init__(**kw)
        self.num_classes, self.keep_prob = num_classes, keep_prob
        self.dropout = keras.layers.Dropout(1.0 - keep_prob)
        self.dense = keras.layers.Dense(
            num_classes, kernel_initializer="he_normal", name="logits", dtype="float32"
        )

    def call(self, x, training=None):
        x = tf.reduce_mean(tf.nn.relu(x), axis=[1, 2])
        return self.dense(self.dropout(x, training=training))

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "keep_prob": self.keep_prob,
        }
