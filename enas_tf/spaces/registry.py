"""The search-space registry: the one place that maps a space name to what the space does.

Everything outside `enas_tf.spaces` asks `registry.of(config)` instead of branching on
`config.space`. A `SearchSpace` is one space under one config; it owns the space's arc class,
its decision program (the controller's view), the token codec between arcs and the int32 tensor
the supernet routes by, uniform sampling, the check that an arc belongs to it, the names of
its op-like choices and how the policy pictures group them, the number of architectures it
holds, and the builders of its supernet and fixed child. The task (image or
language model) it is searched on is named here too. Model code and tasks import TensorFlow,
so they are imported when first used: reading the registry is free.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, ClassVar, Sequence

from enas_tf.errors import ArcError
from enas_tf.spaces import arc_text, config_checks, decisions, macro, micro, rnn


def _load(path: str):
    """The object named "module:name", imported on first use."""
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


class SearchSpace:
    """One search space under one run config (`config.search.model` fixes its size).

    Attributes:
      config: the run config.
      name: "micro", "macro" or "rnn".
      arc_class: the space's architecture dataclass.
    """

    name: ClassVar[str]
    arc_class: ClassVar[type]
    size_key: ClassVar[str] = "num_nodes"  # the arc attribute and search.model key of its size
    _task: ClassVar[str]  # "module:Class" of the task this space is searched on
    # `search.controller` settings of the `learnable` preset (`config.apply_controller_preset`).
    learnable_controller: ClassVar[dict]

    def __init__(self, config):
        self.config = config

    @property
    def model(self):
        """The search model section (`config.search.model`)."""
        return self.config.search.model

    def task_class(self):
        """`ImageTask` or `LmTask`."""
        return _load(self._task)

    def check_config(self) -> None:
        """The config checks of this space (`enas_tf.spaces.config_checks`).

        Raises:
          ConfigError: naming the first bad key, its value and what is allowed.
        """
        raise NotImplementedError

    # Controller and codec --------------------------------------------------------------
    def decision_program(self) -> tuple:
        """The controller's decision program for this search."""
        raise NotImplementedError

    def choice_names(self) -> tuple[str, ...]:
        """Names of the op-like choices (heatmap column labels)."""
        raise NotImplementedError

    def choice_panels(self) -> tuple:
        """How the policy pictures group the decisions (`decisions.ChoicePanel`s)."""
        raise NotImplementedError

    def size(self) -> int:
        """How many architectures this search can sample (distinct token sequences)."""
        raise NotImplementedError

    def arc_from_tokens(self, tokens: Sequence[Any]):
        """The architecture a sampled token sequence encodes."""
        return self.arc_class.from_tokens(tokens, self.model.num_nodes)

    def supernet_tokens(self, arc) -> list[int]:
        """The supernet's token sequence for `arc` (inverse of `arc_from_tokens`)."""
        return list(arc.to_tokens())

    def sample_random_arc(self, rng):
        """A uniformly random architecture of this search (numpy `rng`)."""
        raise NotImplementedError

    def canonical_key(self, tokens: Sequence[Any]) -> tuple[int, ...]:
        """One key for every token sequence that encodes the same network.

        Derive scores each network once under this key: a policy that likes a cell samples
        its encodings as often as the cell itself, and the runners-up (which the audit
        retrains) would otherwise include the derived cell again under another encoding.
        """
        return tuple(int(t) for t in tokens)

    def check_arc(self, arc) -> None:
        """Refuses an arc of another space, naming both.

        Raises:
          ArcError: e.g. a micro arc.json passed to a macro config.
        """
        if not isinstance(arc, self.arc_class):
            other = getattr(arc, "space", "micro")
            raise ArcError(
                f"the arc is a {getattr(arc, 'space', type(arc).__name__)!r} architecture but "
                f"config.space={self.name!r}: use a {self.name} arc, or the config of the "
                f"arc's space (e.g. configs/cifar10_{other}.py)"
            )

    def arc_size_note(self, arc) -> str | None:
        """Why a given arc's size differs from the search's, or None if it does not.

        An arc fixes its own size (nodes per cell, layers): it is retrained at that size,
        whatever `config.search.model` says, which sizes the search only (README, "Workdirs,
        reruns and interruptions"). The pipeline logs this note so that a mismatch is never silent.
        """
        ours, theirs = self.model[self.size_key], getattr(arc, self.size_key)
        if ours == theirs:
            return None
        return (
            f"the arc has {self.size_key}={theirs} but config.search.model.{self.size_key}="
            f"{ours}: the arc is retrained at its own size ({self.size_key}={theirs}); "
            "config.search.model sizes the search only"
        )

    def picture_output_mode(self) -> str:
        """How `arc_pictures` draws the cell's output (`loose_ends` unless a space says)."""
        return "loose_ends"

    # Models (call inside `strategy.scope()`) -------------------------------------------------
    def build_supernet(self, **data):
        """The shared model with every variable built; `data` as the task gives it."""
        raise NotImplementedError

    def build_child(self, arc, *, model_config=None, **data):
        """The fixed network of `arc` at `model_config` (default `config.retrain.model`)."""
        raise NotImplementedError

    # Arcs of this space, whatever the config -----------------------------------------------
    @staticmethod
    def describe_arc(arc) -> str:
        """One log line for an arc."""
        raise NotImplementedError

    @staticmethod
    def arc_markdown(arc, output_mode: str = "loose_ends") -> str:
        """An arc as TensorBoard text: a markdown table (`arc_text.<space>_markdown`)."""
        raise NotImplementedError

    @staticmethod
    def arc_columns(arc) -> dict[str, str]:
        """An arc as one-line cells of a table row, by header (`arc_text.<space>_columns`)."""
        raise NotImplementedError

    @staticmethod
    def arc_graph(arc, output_mode: str = "loose_ends"):
        """An arc as an `arc_graph.ArcGraph` (the space's `graph.arc_graph`)."""
        raise NotImplementedError


class MicroSpace(SearchSpace):
    """Convolutional cells, a normal and a reduction cell stacked (paper 2.4)."""

    name, arc_class, _task = "micro", micro.MicroArc, "enas_tf.tasks.image:ImageTask"
    learnable_controller = dict(tanh_constant=2.5, op_tanh_reduce=1.0, op_bias_init=0.5)
    arc_graph = staticmethod(micro.arc_graph)

    def check_config(self) -> None:
        config_checks.image_sections(self.config, self.name)
        config_checks.micro_retrain(self.config.retrain)

    def decision_program(self) -> tuple:
        return micro.decision_program(
            self.model.num_nodes, sep_conv_bias=self.config.search.controller.op_bias_init
        )

    def choice_names(self) -> tuple[str, ...]:
        return tuple(micro.OPS)

    def choice_panels(self) -> tuple:
        return micro.choice_panels(self.model.num_nodes, micro.OPS)

    def size(self) -> int:
        return micro.search_space_size(self.model.num_nodes)

    def sample_random_arc(self, rng):
        return micro.sample_random_arc(self.model.num_nodes, rng)

    def canonical_key(self, tokens: Sequence[Any]) -> tuple[int, ...]:
        """A node adds its two operands, so `(x, op1, y, op2)` and `(y, op2, x, op1)` are one
        network: each node's operand pairs in sorted order (deeper isomorphisms, e.g. nodes
        in another order, keep their own keys)."""
        ints = [int(t) for t in tokens]
        key = []
        step = micro.layout.TOKENS_PER_NODE  # input_a, op_a, input_b, op_b
        for start in range(0, len(ints), step):
            a, b = tuple(ints[start : start + 2]), tuple(ints[start + 2 : start + step])
            key.extend(min(a, b) + max(a, b))
        return tuple(key)

    def build_supernet(self, *, num_classes, image_shape):
        build = _load("enas_tf.models.builders:build_micro_supernet")
        return build(self.config, num_classes, image_shape)

    def build_child(self, arc, *, model_config=None, num_classes, image_shape, **kw):
        self.check_arc(arc)
        build = _load("enas_tf.models.builders:build_micro_child")
        return build(self.config, arc, num_classes, image_shape, model_config=model_config, **kw)

    @staticmethod
    def describe_arc(arc) -> str:
        normal, reduction = arc.to_string()
        return f"normal [{normal}] reduction [{reduction}]"

    arc_markdown = staticmethod(arc_text.micro_markdown)
    arc_columns = staticmethod(arc_text.micro_columns)


class MacroSpace(SearchSpace):
    """A whole network: an op per layer and skip connections (paper 2.3)."""

    name, arc_class, _task = "macro", macro.MacroArc, "enas_tf.tasks.image:ImageTask"
    size_key = "num_layers"
    learnable_controller = dict(learning_rate=3.5e-3, entropy_weight=1e-4)
    arc_graph = staticmethod(macro.arc_graph)

    def check_config(self) -> None:
        config_checks.image_sections(self.config, self.name)

    @property
    def ops(self) -> tuple[str, ...]:
        """The macro search's candidate ops in token order (`search.model.ops`)."""
        return macro.parse_ops(self.model.ops)

    def decision_program(self) -> tuple:
        return macro.decision_program(self.model.num_layers, len(self.ops))

    def choice_names(self) -> tuple[str, ...]:
        return self.ops

    def choice_panels(self) -> tuple:
        return macro.choice_panels(self.model.num_layers, self.ops)

    def size(self) -> int:
        return macro.search_space_size(self.model.num_layers, num_ops=len(self.ops))

    def arc_from_tokens(self, tokens):
        return macro.MacroArc.from_tokens(tokens, self.model.num_layers, op_names=self.ops)

    def supernet_tokens(self, arc) -> list[int]:
        return list(arc.to_tokens(op_names=self.ops))

    def sample_random_arc(self, rng):
        return macro.sample_random_arc(self.model.num_layers, rng, op_names=self.ops)

    def build_supernet(self, *, num_classes, image_shape):
        build = _load("enas_tf.models.builders:build_macro_supernet")
        return build(self.config, self.ops, num_classes, image_shape)

    def build_child(self, arc, *, model_config=None, num_classes, image_shape, **kw):
        del kw  # drop-path is a micro child's
        self.check_arc(arc)
        build = _load("enas_tf.models.builders:build_macro_child")
        return build(self.config, arc, num_classes, image_shape, model_config=model_config)

    @staticmethod
    def describe_arc(arc) -> str:
        return f"[{arc.to_string()}]"

    arc_markdown = staticmethod(arc_text.macro_markdown)
    arc_columns = staticmethod(arc_text.macro_columns)


class RnnSpace(SearchSpace):
    """The recurrent cell of a word-level language model (paper 2.1)."""

    name, arc_class, _task = "rnn", rnn.RnnArc, "enas_tf.tasks.language_model:LmTask"
    learnable_controller = dict(learning_rate=3.5e-3)
    arc_graph = staticmethod(rnn.arc_graph)

    def check_config(self) -> None:
        config_checks.language_model(self.config)

    def decision_program(self) -> tuple:
        prior = self.config.search.controller.distance_prior
        return tuple(
            dataclasses.replace(step, distance_prior=prior)
            if isinstance(step, decisions.IndexChoice)
            else step
            for step in rnn.decision_program(self.model.num_nodes)
        )

    def choice_names(self) -> tuple[str, ...]:
        return tuple(rnn.ACTIVATIONS)

    def choice_panels(self) -> tuple:
        return rnn.choice_panels(self.model.num_nodes, rnn.ACTIVATIONS)

    def size(self) -> int:
        return rnn.search_space_size(self.model.num_nodes)

    def sample_random_arc(self, rng):
        return rnn.sample_random_arc(self.model.num_nodes, rng)

    def picture_output_mode(self) -> str:
        return self.config.retrain.model.output

    def build_supernet(self, *, vocab_size):
        return _load("enas_tf.models.builders:build_lm_supernet")(self.config, vocab_size)

    def build_child(self, arc, *, model_config=None, vocab_size):
        self.check_arc(arc)
        build = _load("enas_tf.models.builders:build_lm_child")
        return build(self.config, arc, vocab_size, model_config=model_config)

    @staticmethod
    def describe_arc(arc) -> str:
        return f"[{' '.join(str(t) for t in arc.to_tokens())}]"

    arc_markdown = staticmethod(arc_text.rnn_markdown)
    arc_columns = staticmethod(arc_text.rnn_columns)


_SPACES = {space.name: space for space in (MicroSpace, MacroSpace, RnnSpace)}


def names() -> tuple[str, ...]:
    """Every space's name."""
    return tuple(_SPACES)


def of(config) -> SearchSpace:
    """The space of `config.space` under `config`.

    Raises:
      KeyError: for a name that is not a space (configs are validated before this is asked).
    """
    return _SPACES[config.space](config)


def task_class(space: str):
    """The task class `space` is searched on (`ImageTask` or `LmTask`)."""
    return _load(_SPACES[space]._task)


def describe_arc(arc) -> str:
    """One log line for an arc of any space (the original code's integers; rnn: our tokens)."""
    return _SPACES[arc.space].describe_arc(arc)


def arc_markdown(arc, output_mode: str = "loose_ends") -> str:
    """An arc of any space as TensorBoard text: a markdown table naming its ops and inputs.

    `output_mode` is the rnn space's, which nodes h_t averages (as in `arc_graph`); the forms
    of every space are in `enas_tf.spaces.arc_text`.
    """
    return _SPACES[arc.space].arc_markdown(arc, output_mode)


def arc_columns(arc) -> dict[str, str]:
    """An arc of any space as one row of a table of arcs: column header -> one line (no `|`).

    E.g. micro `{"normal cell": "n2 = sep_conv_3x3(c[k-1]) + identity(c[k-2]); ...", ...}`.
    """
    return _SPACES[arc.space].arc_columns(arc)


def arcs_table(rows: Sequence[tuple[float | None, Any]], score_header: str) -> str:
    """A markdown table of `(score, arc)` rows of one space: `# | score_header | arc_columns`.

    Rows keep their order; scores show 4 significant digits (None: `-`). Raises `ValueError`
    for arcs of two spaces.
    """
    return arc_text.arcs_table([(score, arc_columns(arc)) for score, arc in rows], score_header)


def arc_graph(arc, output_mode: str = "loose_ends"):
    """An arc of any space as an `arc_graph.ArcGraph` (what its pictures show).

    Args:
      arc: a `MicroArc`, `MacroArc` or `RnnArc`.
      output_mode: rnn only, which nodes h_t averages ("loose_ends" or "all_but_first").

    Raises:
      TypeError: `arc` is not an architecture of any space.
      ArcError: an unknown rnn `output_mode`, or "all_but_first" for a 1-node cell.
    """
    space = _SPACES.get(getattr(arc, "space", None))
    if space is None or not isinstance(arc, space.arc_class):
        raise TypeError(
            f"cannot draw a {type(arc).__name__}: expected a MicroArc, MacroArc or RnnArc"
        )
    return space.arc_graph(arc, output_mode)
