"""The config checks that depend on the search space: its model sections and its own keys.

`enas_tf.config.validate` checks the keys every run has, then asks the space
(`registry.of(config).check_config()`), whose checks are these functions. Image spaces share
the image-training checks (`image_sections`); micro and macro add their model rules, rnn checks
its language-model sections instead. Plain Python: no TensorFlow.
"""

from __future__ import annotations

from enas_tf.errors import ConfigError, require

# `search.model.sep_weights` of the micro space (`enas_tf.layers.micro_cells`; listed here so
# that config checks stay free of TensorFlow).
SEP_WEIGHT_SHARING = ("per_input", "per_node", "per_cell")


def image_sections(config, space: str) -> None:
    """`data.num_valid` and the `search` / `retrain` sections of an image-space config."""
    data = config.data
    require(data.num_valid > 0, "data.num_valid", data.num_valid, "must be > 0")
    for phase in ("search", "retrain"):
        section = config[phase]
        image_model(space, phase, section.model)
        require(section.batch_size >= 1, f"{phase}.batch_size", section.batch_size, "must be >= 1")
        require(section.epochs >= 0, f"{phase}.epochs", section.epochs, "must be >= 0")
        optim = section.optimizer
        require(
            0.0 <= optim.lr_min <= optim.lr_max,
            f"{phase}.optimizer.lr_min",
            optim.lr_min,
            f"must be in [0, lr_max={optim.lr_max}]",
        )
        require(
            optim.grad_clip > 0,
            f"{phase}.optimizer.grad_clip",
            optim.grad_clip,
            "must be > 0 (global-norm clipping threshold)",
        )
        require(
            optim.t0 >= 1 and optim.t_mul >= 1,
            f"{phase}.optimizer.t0",
            optim.t0,
            "t0 and t_mul must be >= 1",
        )
    require(
        config.retrain.cutout_size >= 0,
        "retrain.cutout_size",
        config.retrain.cutout_size,
        "must be >= 0 (0 disables CutOut)",
    )


def image_model(space: str, phase: str, model) -> None:
    """One model section (`search.model` or `retrain.model`) of the micro or macro space."""
    if space == "micro" or "num_layers" in model:
        minimum, multiple = (3, 3) if space == "micro" else (1, 1)
        require(
            model.num_layers >= minimum and model.num_layers % multiple == 0,
            f"{phase}.model.num_layers",
            model.num_layers,
            "must be a positive multiple of 3" if space == "micro" else "must be >= 1",
        )
    require(
        model.filters >= 2 and model.filters % 2 == 0,
        f"{phase}.model.filters",
        model.filters,
        "must be an even number >= 2",
    )
    require(
        0.0 < model.keep_prob <= 1.0,
        f"{phase}.model.keep_prob",
        model.keep_prob,
        "must be in (0, 1]",
    )
    if space == "micro" and phase == "search":
        require(
            model.num_nodes >= 1,
            "search.model.num_nodes",
            model.num_nodes,
            "must be >= 1 (computed nodes per cell, B - 2)",
        )
        sharing = model.get("sep_weights", "per_input")
        require(
            sharing in SEP_WEIGHT_SHARING,
            "search.model.sep_weights",
            sharing,
            f"must be one of {SEP_WEIGHT_SHARING} (separable-conv weight sets per edge, per "
            "node or per cell)",
        )
    if space == "macro" and phase == "search":
        from enas_tf.spaces import macro

        try:
            macro.parse_ops(model.ops)
        except ValueError as error:
            raise ConfigError(f"config.search.model.ops={model.ops!r}: {error}") from None


def micro_retrain(retrain) -> None:
    """The micro child's drop-path keep probability."""
    require(
        0.0 < retrain.drop_path_keep_prob <= 1.0,
        "retrain.drop_path_keep_prob",
        retrain.drop_path_keep_prob,
        "must be in (0, 1]",
    )


def language_model(config) -> None:
    """The language-model sections and the rnn controller's own keys."""
    for phase in ("search", "retrain"):
        _lm_section(config, phase)
    ctrl = config.search.controller
    require(
        ctrl.reward_constant > 0,
        "search.controller.reward_constant",
        ctrl.reward_constant,
        "must be > 0 (reward = c / validation perplexity)",
    )
    require(
        ctrl.distance_prior >= 0,
        "search.controller.distance_prior",
        ctrl.distance_prior,
        "must be >= 0 (0 disables the prior towards recent nodes)",
    )


def _lm_section(config, phase: str) -> None:
    """`search` or `retrain` of an rnn-space config: model, batch, BPTT and optimizer keys."""
    section = config[phase]
    model = section.model
    if "num_nodes" in model:
        require(model.num_nodes >= 1, f"{phase}.model.num_nodes", model.num_nodes, "must be >= 1")
    require(model.hidden_size >= 1, f"{phase}.model.hidden_size", model.hidden_size, "must be >= 1")
    require(
        model.output in ("loose_ends", "all_but_first"),
        f"{phase}.model.output",
        model.output,
        "must be 'loose_ends' (the paper) or 'all_but_first' (enas_lm)",
    )
    for name, rate in model.dropout.items():
        require(0.0 <= rate < 1.0, f"{phase}.model.dropout.{name}", rate, "must be in [0, 1)")
    for key in ("batch_size", "eval_batch_size", "bptt", "epochs"):
        minimum = 0 if key == "epochs" else 1
        require(section[key] >= minimum, f"{phase}.{key}", section[key], f"must be >= {minimum}")
    optim = section.optimizer
    require(optim.lr > 0, f"{phase}.optimizer.lr", optim.lr, "must be > 0")
    require(0 < optim.decay <= 1, f"{phase}.optimizer.decay", optim.decay, "must be in (0, 1]")
    require(optim.grad_clip > 0, f"{phase}.optimizer.grad_clip", optim.grad_clip, "must be > 0")
