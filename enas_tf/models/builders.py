"""The models of each search space, built from the run config with every variable created.

One function per (space, model); which one a run uses is the search-space registry's choice
(`enas_tf.spaces.registry`), so nothing here branches on the space. Every builder creates all
variables before returning (docs/DESIGN.md rule 2): the supernets by materialising at the data's
shapes, the children by one call.
"""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from enas_tf.models.macro import MacroChild, MacroSupernet
from enas_tf.models.micro import MicroChild, MicroSupernet
from enas_tf.models.rnn_lm import LmDropout, RnnChild, RnnSupernet
from enas_tf.spaces import rnn


def lm_dropout(model_config) -> LmDropout:
    """The dropout rates of a language-model section (`search.model` or `retrain.model`)."""
    d = model_config.dropout
    return LmDropout(
        embedding_words=d.embedding_words,
        embedding=d.embedding,
        cell_input=d.cell_input,
        recurrent=d.recurrent,
        output=d.output,
    )


def build_lm_supernet(config, vocab_size: int) -> RnnSupernet:
    """The RNN space's shared language model with every variable built."""
    model = config.search.model
    supernet = RnnSupernet(
        vocab_size=vocab_size,
        hidden_size=model.hidden_size,
        num_nodes=model.num_nodes,
        activations=rnn.ACTIVATIONS,
        output=model.output,
        dropout=lm_dropout(model),
        init_range=model.init_range,
        batch_norm_output=model.batch_norm_output,
        seed=config.seed,
        name="supernet",
    )
    supernet.build()
    return supernet


def build_micro_supernet(config, num_classes: int, image_shape: Sequence[int]) -> MicroSupernet:
    """The micro space's shared network (`config.search.model`)."""
    model = config.search.model
    supernet = MicroSupernet(
        num_classes=num_classes,
        num_layers=model.num_layers,
        filters=model.filters,
        num_nodes=model.num_nodes,
        keep_prob=model.keep_prob,
        use_aux_head=model.use_aux_head,
        sep_weights=model.get("sep_weights", "per_input"),
        name="supernet",
    )
    supernet.materialize(image_shape)
    return supernet


def build_macro_supernet(
    config, ops: Sequence[str], num_classes: int, image_shape: Sequence[int]
) -> MacroSupernet:
    """The macro space's shared network over the candidate `ops` (in token order)."""
    model = config.search.model
    supernet = MacroSupernet(
        num_classes=num_classes,
        num_layers=model.num_layers,
        filters=model.filters,
        ops=tuple(ops),
        keep_prob=model.keep_prob,
        double_filters=model.double_filters,
        name="supernet",
    )
    supernet.materialize(image_shape)
    return supernet


def build_lm_child(config, arc, vocab_size: int, *, model_config=None) -> RnnChild:
    """The fixed language model of an `RnnArc`, with every variable built.

    Args:
      config: the run config.
      arc: an `RnnArc`.
      vocab_size: the vocabulary's size.
      model_config: the model section to build at; default `config.retrain.model` (the
        benchmark passes `config.search.model` to compare at the search's size).
    """
    model = model_config or config.retrain.model
    child = RnnChild(
        arc,
        vocab_size=vocab_size,
        hidden_size=model.hidden_size,
        output=model.output,
        dropout=lm_dropout(model),
        init_range=model.init_range,
        seed=config.seed,
        name="child",
    )
    child.build()
    return child


def build_micro_child(
    config,
    arc,
    num_classes: int,
    image_shape: Sequence[int],
    *,
    model_config=None,
    drop_path_keep_prob: float | None = None,
) -> MicroChild:
    """The fixed network of a `MicroArc`.

    Args:
      config: the run config.
      arc: a `MicroArc`.
      num_classes, image_shape: the data's.
      model_config: the model section to build at; default `config.retrain.model` (the
        benchmark passes `config.search.model` to compare at the search's shapes).
      drop_path_keep_prob: default `config.retrain.drop_path_keep_prob`.
    """
    model = model_config or config.retrain.model
    if drop_path_keep_prob is None:
        drop_path_keep_prob = config.retrain.drop_path_keep_prob
    child = MicroChild(
        arc,
        num_classes=num_classes,
        num_layers=model.num_layers,
        filters=model.filters,
        keep_prob=model.keep_prob,
        use_aux_head=model.use_aux_head,
        drop_path_keep_prob=drop_path_keep_prob,
        name="child",
    )
    child(tf.zeros([2, *image_shape]), training=True)
    return child


def build_macro_child(
    config, arc, num_classes: int, image_shape: Sequence[int], *, model_config=None
) -> MacroChild:
    """The fixed network of a `MacroArc` (arguments as `build_micro_child`)."""
    model = model_config or config.retrain.model
    child = MacroChild(
        arc,
        num_classes=num_classes,
        filters=model.filters,
        keep_prob=model.keep_prob,
        double_filters=model.double_filters,
        name="child",
    )
    child(tf.zeros([2, *image_shape]), training=True)
    return child
