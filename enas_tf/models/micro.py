"""Micro-space image classifiers: the shared supernet and the fixed child of one arc.

Both have the same skeleton (paper Figure 4): a 3x3 conv stem with 3x the base filters, the
cells of `micro_layout`, an optional auxiliary head and relu -> global average pool -> dropout
-> dense. They differ in the cells: `SharedMicroCell` routes an int32 arc tensor through every
candidate op; `FixedMicroCell` builds only the arc's ops. Both return `(logits, aux_logits)`,
with `aux_logits=None` when the auxiliary head is off or `training` is false.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from enas_tf.layers.eager_build import BuiltByFirstCall
from enas_tf.layers.heads import AuxHead, ClassifierHead
from enas_tf.layers.micro_cells import FixedMicroCell, SharedMicroCell
from enas_tf.layers.ops import make_norm
from enas_tf.layers.stem import StemReductions
from enas_tf.models.micro_layout import aux_head_position, micro_layout
from enas_tf.spaces.micro import MicroArc
from enas_tf.spaces.micro import layout as token_layout


class _MicroNetwork(BuiltByFirstCall):
    """Stem, cells, heads; subclasses build the cells."""

    def __init__(self, *, num_classes, num_layers, filters, keep_prob, use_aux_head, search, **kw):
        super().__init__(**kw)
        self.layout = micro_layout(num_layers, filters)
        self.stem = keras.layers.Conv2D(
            3 * filters,
            3,
            padding="same",
            use_bias=False,
            kernel_initializer="he_normal",
            name="stem",
        )
        self.stem_norm = make_norm(search, "stem_bn")
        # Large images are halved before the stem (none at 32x32 or less).
        self.stem_reductions = StemReductions(3 * filters, search=search, name="stem_reductions")
        self.head = ClassifierHead(num_classes, keep_prob, name="head")
        self.aux_position = aux_head_position(self.layout) if use_aux_head else None
        self.aux_head = (
            AuxHead(num_classes, search=search, name="aux_head") if use_aux_head else None
        )

    def _run_cell(self, position, prev_prev, prev, arc, training):
        raise NotImplementedError

    def call(self, images, arc=None, training=None):
        x = self.stem_reductions(images, training=training)
        x = self.stem_norm(self.stem(x), training=training)
        prev_prev, prev = x, x
        aux_logits = None
        for position in range(len(self.layout)):
            out = self._run_cell(position, prev_prev, prev, arc, training)
            prev_prev, prev = prev, out
            if position == self.aux_position and training:
                aux_logits = self.aux_head(out, training=training)
        return self.head(prev, training=training), aux_logits


class MicroSupernet(_MicroNetwork):
    """The shared network of the micro space; `call(images, arc_tokens, training)`.

    `arc_tokens` is the int32 [num_tokens(num_nodes)] integer encoding of a `MicroArc` (normal
    cell then reduction cell, `enas_tf.spaces.micro.layout`), so one traced graph serves every
    architecture.
    """

    def __init__(
        self,
        *,
        num_classes,
        num_layers,
        filters,
        num_nodes,
        keep_prob=0.9,
        use_aux_head=False,
        sep_weights="per_input",
        **kw,
    ):
        super().__init__(
            num_classes=num_classes,
            num_layers=num_layers,
            filters=filters,
            keep_prob=keep_prob,
            use_aux_head=use_aux_head,
            search=True,
            **kw,
        )
        self.num_nodes = num_nodes
        self.cells = [
            SharedMicroCell(
                num_nodes,
                spec.filters,
                reduction=spec.reduction,
                reduce_prev_prev=spec.reduce_prev_prev,
                sep_weights=sep_weights,
                name=f"cell{position}",
            )
            for position, spec in enumerate(self.layout)
        ]

    def _run_cell(self, position, prev_prev, prev, arc, training):
        cell = token_layout.CELLS.index(
            "reduction" if self.layout[position].reduction else "normal"
        )
        cell_tokens = token_layout.cell_tokens(arc, cell, self.num_nodes)
        return self.cells[position]((prev_prev, prev), cell_tokens, training=training)

    def materialize(self, image_shape):
        """Creates every variable before the first step (docs/DESIGN.md rule 2).

        The cells create their stacked branch weights in `build`, outside any switch branch;
        one eager forward pass on zeros builds the rest (stem, calibrations, projections,
        heads). Call it inside `strategy.scope()`.
        """
        tokens = tf.zeros([token_layout.num_tokens(self.num_nodes)], tf.int32)
        self(tf.zeros([2, *image_shape]), tokens, training=True)


class MicroChild(_MicroNetwork):
    """The fixed network of one `MicroArc`, for retraining from scratch and export.

    Args:
      arc: the architecture.
      drop_path_keep_prob: keep probability of drop-path at the last cell at the end of training.
      num_classes, num_layers, filters, keep_prob, use_aux_head: as in the config's model section.
    """

    def __init__(
        self,
        arc: MicroArc,
        *,
        num_classes,
        num_layers,
        filters,
        keep_prob=1.0,
        use_aux_head=False,
        drop_path_keep_prob=1.0,
        **kw,
    ):
        super().__init__(
            num_classes=num_classes,
            num_layers=num_layers,
            filters=filters,
            keep_prob=keep_prob,
            use_aux_head=use_aux_head,
            search=False,
            **kw,
        )
        self.arc = arc
        # Fraction of training done, assigned by the training loop; read by drop-path.
        self.progress = tf.Variable(0.0, trainable=False, name="progress")
        self.cells = [
            FixedMicroCell(
                arc.reduction if spec.reduction else arc.normal,
                spec.filters,
                reduction=spec.reduction,
                reduce_prev_prev=spec.reduce_prev_prev,
                drop_path_keep_prob=drop_path_keep_prob,
                depth_fraction=spec.depth_fraction,
                progress=self.progress,
                name=f"cell{position}",
            )
            for position, spec in enumerate(self.layout)
        ]

    def _run_cell(self, position, prev_prev, prev, arc, training):
        del arc
        return self.cells[position]((prev_prev, prev), training=training)
