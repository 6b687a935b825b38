"""What differs between the image search spaces, in one place: models, programs and arcs.

Search, derive, retrain, export and the benchmarks are written once for every image space; they
ask this module for the configured space's supernet, fixed child, controller program and arc
conversions, keyed by `config.space` ("micro" or "macro").
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import tensorflow as tf

from enas_tf.errors import ArcError
from enas_tf.models.macro import MacroChild, MacroSupernet
from enas_tf.models.micro import MicroChild, MicroSupernet
from enas_tf.models.rnn_lm import LmDropout, RnnChild, RnnSupernet
from enas_tf.spaces import decisions, macro, micro, rnn

ARC_CLASSES = {"micro": micro.MicroArc, "macro": macro.MacroArc, "rnn": rnn.RnnArc}


def macro_ops(config) -> tuple[str, ...]:
    """The macro search's candidate ops in token order (`search.model.ops`)."""
    return macro.parse_ops(config.search.model.ops)


def decision_program(config) -> tuple:
    """The controller's decision program for the configured search."""
    model = config.search.model
    if config.space == "macro":
        return macro.decision_program(model.num_layers, len(macro_ops(config)))
    if config.space == "rnn":
        prior = config.search.controller.distance_prior
        return tuple(
            dataclasses.replace(step, distance_prior=prior)
            if isinstance(step, decisions.IndexChoice)
            else step
            for step in rnn.decision_program(model.num_nodes)
        )
    return micro.decision_program(
        model.num_nodes, sep_conv_bias=config.search.controller.op_bias_init
    )


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


def build_supernet(config, num_classes: int, image_shape: Sequence[int]):
    """The configured supernet with every variable built (docs/DESIGN.md rule 2)."""
    model = config.search.model
    if config.space == "macro":
        supernet = MacroSupernet(
            num_classes=num_classes,
            num_layers=model.num_layers,
            filters=model.filters,
            ops=macro_ops(config),
            keep_prob=model.keep_prob,
            double_filters=model.double_filters,
            name="supernet",
        )
    else:
        supernet = MicroSupernet(
            num_classes=num_classes,
            num_layers=model.num_layers,
            filters=model.filters,
            num_nodes=model.num_nodes,
            keep_prob=model.keep_prob,
            use_aux_head=model.use_aux_head,
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
    check_arc(config, arc)
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


def build_child(
    config,
    arc,
    num_classes: int,
    image_shape: Sequence[int],
    *,
    model_config=None,
    drop_path_keep_prob: float | None = None,
):
    """The fixed network of `arc`, with every variable created.

    Args:
      config: the run config (its space and retrain section).
      arc: an architecture of `config.space`.
      num_classes, image_shape: the data's.
      model_config: the model section to build at; default `config.retrain.model` (the
        benchmark passes `config.search.model` to compare at the search's shapes).
      drop_path_keep_prob: micro only; default `config.retrain.drop_path_keep_prob`.
    """
    check_arc(config, arc)
    model = model_config or config.retrain.model
    if config.space == "macro":
        child = MacroChild(
            arc,
            num_classes=num_classes,
            filters=model.filters,
            keep_prob=model.keep_prob,
            double_filters=model.double_filters,
            name="child",
        )
    else:
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


def check_arc(config, arc) -> None:
    """Refuses an arc of another space than the config's, naming both.

    Raises:
      ArcError: e.g. a micro arc.json passed to a macro config.
    """
    expected = ARC_CLASSES[config.space]
    if not isinstance(arc, expected):
        raise ArcError(
            f"the arc is a {getattr(arc, 'space', type(arc).__name__)!r} architecture but "
            f"config.space={config.space!r}: use a {config.space} arc, or the config of the "
            f"arc's space (e.g. configs/cifar10_{getattr(arc, 'space', 'micro')}.py)"
        )


def arc_from_tokens(config, tokens: Sequence[Any]):
    """The architecture a sampled token sequence of the configured search encodes."""
    if config.space == "macro":
        return macro.MacroArc.from_tokens(
            tokens, config.search.model.num_layers, op_names=macro_ops(config)
        )
    if config.space == "rnn":
        return rnn.RnnArc.from_tokens(tokens, config.search.model.num_nodes)
    return micro.MicroArc.from_tokens(tokens, config.search.model.num_nodes)


def supernet_tokens(config, arc) -> list[int]:
    """The supernet's token sequence for `arc` (inverse of `arc_from_tokens`)."""
    if config.space == "macro":
        return arc.to_tokens(op_names=macro_ops(config))
    return arc.to_tokens()


def sample_random_arc(config, rng):
    """A uniformly random architecture of the configured search space (numpy `rng`)."""
    if config.space == "macro":
        return macro.sample_random_arc(
            config.search.model.num_layers, rng, op_names=macro_ops(config)
        )
    if config.space == "rnn":
        return rnn.sample_random_arc(config.search.model.num_nodes, rng)
    return micro.sample_random_arc(config.search.model.num_nodes, rng)


def describe_arc(arc) -> str:
    """One log line for an arc (the original code's integers; rnn: our tokens)."""
    if isinstance(arc, micro.MicroArc):
        normal, reduction = arc.to_string()
        return f"normal [{normal}] reduction [{reduction}]"
    if isinstance(arc, rnn.RnnArc):
        return f"[{' '.join(str(t) for t in arc.to_tokens())}]"
    return f"[{arc.to_string()}]"


def arc_markdown(arc) -> str:
    """An arc as TensorBoard text (markdown): one line per cell, or per macro layer."""
    if isinstance(arc, micro.MicroArc):
        normal, reduction = arc.to_string()
        return f"normal: {normal}  \nreduction: {reduction}"
    if isinstance(arc, rnn.RnnArc):
        return "  \n".join(
            f"node {k}: {node.activation}({'input' if k == 1 else f'node {node.prev}'})"
            for k, node in enumerate(arc.nodes, start=1)
        )
    return "  \n".join(f"layer {k}: {row}" for k, row in enumerate(arc.to_rows(), start=1))
