"""Macro-space image classifiers: the shared supernet and the fixed network of one arc.

Both follow the authors' macro network: a 3x3 conv stem with `filters` channels and BN, then
`num_layers` layers (`enas_tf.layers.macro_layers`), with a pooling step after layers L/3 and
2L/3 (the space's `pool_after`, `enas_tf.spaces.macro.layout`) that brings *every* output so
far (the stem included, since all of them can still be skip sources) to half the resolution by
factorized reduction; then
relu -> global average pooling -> dropout -> dense. With `double_filters` the width doubles at
each pooling step (the authors' final model); the authors' search kept it constant. Both
models return `(logits, None)`: the macro networks have no auxiliary head (the authors' macro
code accepted the flag and ignored it).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from enas_tf.layers.eager_build import BuiltByFirstCall
from enas_tf.layers.heads import ClassifierHead
from enas_tf.layers.macro_layers import FixedMacroLayer, SharedMacroLayer
from enas_tf.layers.ops import FactorizedReduce, make_norm
from enas_tf.layers.stem import StemReductions
from enas_tf.spaces import macro
from enas_tf.spaces.macro import layout as token_layout
from enas_tf.spaces.macro.layout import pool_after as macro_pool_after


def macro_widths(num_layers: int, filters: int, double_filters: bool) -> list[int]:
    """Channels of layers 0 (stem) .. L; a pooling step doubles the width of the layers after it."""
    widths, width = [filters], filters
    pools = macro_pool_after(num_layers)
    for layer in range(1, num_layers + 1):
        widths.append(width)
        if layer in pools and double_filters:
            width *= 2
    return widths


class _MacroNetwork(BuiltByFirstCall):
    """Stem, layers, pooling steps and head; subclasses build the layers."""

    def __init__(
        self, *, num_classes, num_layers, filters, keep_prob, double_filters, search, **kw
    ):
        super().__init__(**kw)
        if num_layers < 1:
            raise ValueError(f"model.num_layers={num_layers}: must be >= 1")
        if filters < 2 or filters % 2:
            raise ValueError(f"model.filters={filters}: must be an even number >= 2")
        self.num_layers = num_layers
        self.widths = macro_widths(num_layers, filters, double_filters)
        self.pool_after = macro_pool_after(num_layers)
        self.stem = keras.layers.Conv2D(
            filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal", name="stem"
        )
        self.stem_norm = make_norm(search, "stem_bn")
        # Large images are halved before the stem (none at 32x32 or less).
        self.stem_reductions = StemReductions(filters, search=search, name="stem_reductions")
        # reductions[layer][j] brings output j (0 = stem) to the next resolution.
        self.reductions = {
            layer: [
                FactorizedReduce(
                    self.widths[min(layer + 1, num_layers)],
                    search=search,
                    name=f"pool_after{layer}_from{j}",
                )
                for j in range(layer + 1)
            ]
            for layer in self.pool_after
        }
        self.head = ClassifierHead(num_classes, keep_prob, name="head")

    def _run_layer(self, layer, outputs, arc, training):
        raise NotImplementedError

    def call(self, images, arc=None, training=None):
        x = self.stem_reductions(images, training=training)
        outputs = [self.stem_norm(self.stem(x), training=training)]
        for layer in range(1, self.num_layers + 1):
            outputs.append(self._run_layer(layer, outputs, arc, training))
            if layer in self.reductions:
                outputs = [
                    reduce(x, training=training)
                    for reduce, x in zip(self.reductions[layer], outputs, strict=True)
                ]
        return self.head(outputs[-1], training=training), None


class MacroSupernet(_MacroNetwork):
    """The shared network of the macro space; `call(images, arc_tokens, training)`.

    `arc_tokens` is the int32 `macro.num_tokens(num_layers)` token sequence of a `MacroArc`
    (per layer: op token, then its skip bits; `enas_tf.spaces.macro.layout`), with op tokens
    indexing `ops`. One traced graph serves every architecture, skip bits included.

    Args:
      ops: candidate op names in token order (`macro.parse_ops` of the config's restriction).
      num_classes, num_layers, filters, keep_prob, double_filters: the model section.
    """

    def __init__(
        self,
        *,
        num_classes,
        num_layers,
        filters,
        ops=macro.OPS,
        keep_prob=0.9,
        double_filters=False,
        **kw,
    ):
        super().__init__(
            num_classes=num_classes,
            num_layers=num_layers,
            filters=filters,
            keep_prob=keep_prob,
            double_filters=double_filters,
            search=True,
            **kw,
        )
        self.ops = tuple(ops)
        self.macro_layers = [
            SharedMacroLayer(layer, self.widths[layer], self.ops, name=f"layer{layer}")
            for layer in range(1, num_layers + 1)
        ]

    def _run_layer(self, layer, outputs, arc, training):
        op_token, skip_bits = token_layout.layer_tokens(arc, layer)
        return self.macro_layers[layer - 1](outputs, op_token, skip_bits, training=training)

    def materialize(self, image_shape):
        """Creates every variable of every branch before the first step (docs/DESIGN.md rule 2).

        One eager forward pass on zeros in which every layer runs all its branches instead of
        switching, so no variable is created inside a `tf.switch_case` branch. Call it inside
        `strategy.scope()`.
        """
        for layer in self.macro_layers:
            layer.materializing = True
        try:
            tokens = tf.zeros([token_layout.num_tokens(self.num_layers)], tf.int32)
            self(tf.zeros([2, *image_shape]), tokens, training=True)
        finally:
            for layer in self.macro_layers:
                layer.materializing = False


class MacroChild(_MacroNetwork):
    """The fixed network of one `MacroArc`, for retraining from scratch and export.

    Every op is really built (separable convs as separable convs, pools as pools), and the
    1x1 skip projection reads only the selected layers.

    Args:
      arc: the architecture; its length fixes the number of layers.
      num_classes, filters, keep_prob, double_filters: the model section.
    """

    def __init__(self, arc, *, num_classes, filters, keep_prob=1.0, double_filters=True, **kw):
        super().__init__(
            num_classes=num_classes,
            num_layers=arc.num_layers,
            filters=filters,
            keep_prob=keep_prob,
            double_filters=double_filters,
            search=False,
            **kw,
        )
        self.arc = arc
        self.macro_layers = [
            FixedMacroLayer(
                layer,
                self.widths[layer],
                spec.op,
                spec.skips,
                name=f"layer{layer}",
            )
            for layer, spec in enumerate(arc.layers, start=1)
        ]

    def _run_layer(self, layer, outputs, arc, training):
        del arc
        return self.macro_layers[layer - 1](outputs, training=training)
