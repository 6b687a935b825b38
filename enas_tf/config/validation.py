"""Config checks that run before anything is written: a bad value fails in seconds.

`validate` checks the keys every run has and asks the search space for its own checks
(`registry.of(config).check_config()`, `enas_tf.spaces.config_checks`); `check_batch_sizes`
checks batch sizes against the loaded data. Every message names the key, its value and what is
allowed (`enas_tf.errors.require`).
"""

from __future__ import annotations

import ml_collections

from enas_tf.config.limits import check_numbers
from enas_tf.data import image_options
from enas_tf.errors import ConfigError, DataError, require
from enas_tf.spaces import registry

SPACES = registry.names()
JIT_CHOICES = ("auto", "true", "false")
ARC_SAMPLING = ("per_replica", "shared")
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
GRAPH_OPTIMIZER = ("auto", "on", "off")
POLICIES = ("enas", "random")
CHILD_SAMPLING = ("policy", "uniform")
DERIVE_RANK_BY = ("score", "loss")
BASELINES = ("ema", "group")
REWARD_BATCHES = ("per_arc", "per_update")
STREAMING = ("auto", "on", "off")


def check_batch_sizes(config, num_train: int, num_valid: int) -> None:
    """Refuses batch sizes the loaded data cannot fill (a split smaller than one batch).

    Checked by the pipeline before it writes the workdir, and by `Search`/`Retrain` for callers
    that build them directly.

    Raises:
      ConfigError: naming the key, its value and the split size.
    """
    checks = (
        ("search.batch_size", config.search.batch_size, num_train, "training split"),
        ("search.eval_batch_size", config.search.eval_batch_size, num_valid, "validation split"),
        ("retrain.batch_size", config.retrain.batch_size, num_train, "training split"),
    )
    for key, value, available, split in checks:
        if value > available:
            raise ConfigError(
                f"config.{key}={value} is larger than the {split} ({available} images): lower "
                "it, or use more data (data.max_train_examples, data.num_valid or "
                "data.valid_fraction)"
            )


def validate(config: ml_collections.ConfigDict) -> None:
    """Checks values that would otherwise fail late (after minutes of training) or silently.

    Raises:
      ConfigError: naming the first bad key, its value and the allowed range.
    """
    require(config.space in SPACES, "space", config.space, f"must be one of {SPACES}")
    check_numbers(config)
    for phase in ("search", "retrain"):
        require(
            str(config.jit_compile[phase]).lower() in JIT_CHOICES,
            f"jit_compile.{phase}",
            config.jit_compile[phase],
            f"must be one of {JIT_CHOICES}",
        )
    require(
        config.precision in PRECISIONS,
        "precision",
        config.precision,
        f"must be one of {PRECISIONS}",
    )
    require(
        config.graph_optimizer in GRAPH_OPTIMIZER,
        "graph_optimizer",
        config.graph_optimizer,
        f"must be one of {GRAPH_OPTIMIZER}",
    )
    require(
        config.search.arc_sampling in ARC_SAMPLING,
        "search.arc_sampling",
        config.search.arc_sampling,
        f"must be one of {ARC_SAMPLING}",
    )
    require(
        config.search.policy in POLICIES,
        "search.policy",
        config.search.policy,
        f"must be one of {POLICIES} (random: the random-search baseline, no controller updates)",
    )
    require(
        config.search.get("child_sampling", "policy") in CHILD_SAMPLING,
        "search.child_sampling",
        config.search.get("child_sampling"),
        f"must be one of {CHILD_SAMPLING} (uniform: the shared weights train on uniform arcs "
        "throughout while the controller learns from them)",
    )
    check = config.search.check
    require(check.num_arcs >= 2, "search.check.num_arcs", check.num_arcs, "must be >= 2")
    require(check.num_batches >= 1, "search.check.num_batches", check.num_batches, "must be >= 1")
    require(
        check.every_epochs >= 1,
        "search.check.every_epochs",
        check.every_epochs,
        "must be >= 1 (1: a check after every epoch)",
    )
    require(config.steps_per_loop >= 1, "steps_per_loop", config.steps_per_loop, "must be >= 1")
    require(
        config.checkpoint_every_steps >= 0,
        "checkpoint_every_steps",
        config.checkpoint_every_steps,
        "must be >= 0 (0 = at phase ends only)",
    )
    require(
        config.get("cluster_wait_seconds", 600) > 0,
        "cluster_wait_seconds",
        config.get("cluster_wait_seconds"),
        "must be > 0 (seconds a worker waits for the other tasks of TF_CONFIG's cluster)",
    )
    registry.of(config).check_config()
    if "color_mode" in config.data:  # the image tasks' data section
        _validate_image_data(config.data)
        _validate_retrain_size(config)
    if "vocab_size" in config.data:  # a language-model data section (the rnn space's)
        _validate_text_data(config.data)
    _validate_controller(config.search.controller)
    warmup = config.search.controller.warmup_epochs
    require(
        0 <= warmup < max(config.search.epochs, 1),
        "search.controller.warmup_epochs",
        warmup,
        f"must be >= 0 and below search.epochs={config.search.epochs} (the controller needs "
        "at least one epoch after the warm-up to learn)",
    )
    _validate_derive(config.derive)
    _validate_audit(config)


def _validate_image_data(data) -> None:
    """The image-data keys (`enas_tf.data.image_arrays`, `image_sources`)."""
    for key, choices in (
        ("color_mode", image_options.COLOR_MODES),
        ("resize_mode", image_options.RESIZE_MODES),
    ):
        value = data.get(key, choices[0])
        require(value in choices, f"data.{key}", value, f"must be one of {choices}")
    try:
        image_options.parse_image_size(data.get("image_size", ""))
    except DataError as e:
        raise ConfigError(str(e)) from None
    streaming = data.get("streaming", "auto")
    require(streaming in STREAMING, "data.streaming", streaming, f"must be one of {STREAMING}")
    limit = data.get("memory_limit_mb", 2048.0)
    require(limit > 0, "data.memory_limit_mb", limit, "must be > 0 (MiB of decoded images)")
    buffer = data.get("shuffle_buffer", 10_000)
    require(buffer >= 1, "data.shuffle_buffer", buffer, "must be >= 1 (examples)")
    for key in ("valid_fraction", "test_fraction"):
        value = data.get(key, 0.0)
        require(
            0.0 <= value < 1.0,
            f"data.{key}",
            value,
            "must be in [0, 1) (0 = not carved by fraction)",
        )


def _validate_retrain_size(config) -> None:
    """`retrain.image_size` parses and comes with the search's own `data.image_size`."""
    value = config.retrain.get("image_size", "")
    try:
        size = image_options.parse_image_size(value)
    except DataError as e:
        raise ConfigError(str(e).replace("data.image_size", "retrain.image_size")) from None
    require(
        size is None or bool(str(config.data.get("image_size", "")).strip()),
        "retrain.image_size",
        value,
        "needs data.image_size too (the search's resolution; images load at the retrain's)",
    )


def _validate_text_data(data) -> None:
    """The language-model data keys (`enas_tf.data.text_dirs`, `text_files`).

    The file names and vocabulary cap only apply to a directory of text; the loader checks
    that against `data.source`, since only it knows what the source is.
    """
    require(
        data.vocab_size == 0 or data.vocab_size >= 3,
        "data.vocab_size",
        data.vocab_size,
        "must be 0 (every training word) or >= 3 (<eos>, <unk> and at least one word)",
    )
    tail = data.get("valid_from_train_tail", 0)
    require(
        tail >= 0,
        "data.valid_from_train_tail",
        tail,
        "must be >= 0 (0 = the validation file; N > 0 = the last N training tokens)",
    )
    names = {key: data.get(key, "") for key in ("train_file", "valid_file", "test_file")}
    if not any(names.values()):
        return  # the files are recognised by name
    for key in ("train_file", "test_file"):
        require(
            bool(names[key]),
            f"data.{key}",
            names[key],
            "must be set too: once data.train_file, data.valid_file or data.test_file is set "
            "nothing is guessed",
        )
    require(
        bool(names["valid_file"]) != bool(tail),
        "data.valid_file",
        names["valid_file"],
        "must be set unless data.valid_from_train_tail > 0, and empty if it is (the validation "
        "split is either a file or the training file's tail)",
    )
    first = {}  # file name -> the key that named it first
    for key, name in names.items():
        require(
            not name or name not in first,
            f"data.{key}",
            name,
            f"names the same file as data.{first.get(name)}: the splits must be different files",
        )
        first.setdefault(name, key)


def _validate_controller(ctrl) -> None:
    require(
        ctrl.op_bias_init >= 0.0,
        "search.controller.op_bias_init",
        ctrl.op_bias_init,
        "must be >= 0 (initial logit bias of the separable convolutions; 0 = none)",
    )
    require(
        ctrl.num_aggregate >= 1,
        "search.controller.num_aggregate",
        ctrl.num_aggregate,
        "must be >= 1",
    )
    require(
        0.0 <= ctrl.baseline_decay < 1.0,
        "search.controller.baseline_decay",
        ctrl.baseline_decay,
        "must be in [0, 1)",
    )
    require(
        ctrl.baseline in BASELINES,
        "search.controller.baseline",
        ctrl.baseline,
        f"must be one of {BASELINES}",
    )
    require(
        ctrl.baseline != "group" or ctrl.num_aggregate >= 2,
        "search.controller.num_aggregate",
        ctrl.num_aggregate,
        "must be >= 2 with search.controller.baseline=group (an arc's baseline is the mean "
        "reward of the other arcs of its update)",
    )
    require(
        ctrl.reward_batch in REWARD_BATCHES,
        "search.controller.reward_batch",
        ctrl.reward_batch,
        f"must be one of {REWARD_BATCHES}",
    )
    require(
        0.0 < ctrl.skip_target < 1.0,
        "search.controller.skip_target",
        ctrl.skip_target,
        "must be in (0, 1) (prior probability of a skip connection)",
    )
    require(
        ctrl.skip_weight >= 0.0,
        "search.controller.skip_weight",
        ctrl.skip_weight,
        "must be >= 0 (0 disables the skip KL penalty)",
    )


def _validate_derive(derive) -> None:
    require(
        derive.num_candidates >= 1, "derive.num_candidates", derive.num_candidates, "must be >= 1"
    )
    require(derive.num_batches >= 1, "derive.num_batches", derive.num_batches, "must be >= 1")
    require(
        derive.get("rank_by", "score") in DERIVE_RANK_BY,
        "derive.rank_by",
        derive.get("rank_by"),
        f"must be one of {DERIVE_RANK_BY} (loss: the mean validation cross-entropy)",
    )


def audit_retrain_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The config `--mode=audit` retrains every arc with: `retrain` at the audit's budget.

    `retrain.epochs` becomes `audit.epochs` (or stays, if it is fewer: an audit is never longer
    than the final retrain), `audit.model`'s values that are set replace
    `retrain.model`'s, and a cosine schedule's first period (`retrain.optimizer.t0`, image
    spaces) is cut to `audit.epochs`: a short retrain that stopped mid-cycle, at a high
    learning rate, would rank arcs by how they cope with that rather than by what they learn.
    Everything else is the run's config, so the audit's retrains differ from the final
    retrain by their budget only. Returns a locked copy; `config` is not changed.
    """
    audit = config.audit
    out = config.copy_and_resolve_references()
    with out.unlocked():
        out.retrain.epochs = max(1, min(audit.epochs, config.retrain.epochs))
        if "t0" in out.retrain.optimizer:
            out.retrain.optimizer.t0 = min(out.retrain.optimizer.t0, out.retrain.epochs)
        for key, value in audit.model.items():
            if value is not None:
                out.retrain.model[key] = value
    out.lock()
    return out


def _validate_audit(config) -> None:
    audit = config.audit
    require(
        audit.num_candidates >= 0,
        "audit.num_candidates",
        audit.num_candidates,
        "must be >= 0 (derive candidates after the derived arc to retrain)",
    )
    require(
        audit.num_random >= 1,
        "audit.num_random",
        audit.num_random,
        "must be >= 1 (uniformly random arcs the derived arc is compared with)",
    )
    require(audit.epochs >= 1, "audit.epochs", audit.epochs, "must be >= 1")
    require(audit.score_batches >= 1, "audit.score_batches", audit.score_batches, "must be >= 1")
    for key, value in audit.model.items():
        if value is None:
            continue
        require(
            key in config.retrain.model,
            f"audit.model.{key}",
            value,
            f"retrain.model has no {key!r}: audit.model may set "
            f"{', '.join(sorted(config.retrain.model.keys()))}",
        )
        require(value >= 1, f"audit.model.{key}", value, "must be >= 1 (None: the retrain's)")
    try:
        registry.of(audit_retrain_config(config)).check_config()
    except ConfigError as error:
        raise ConfigError(
            f"config.audit sets the audit's retrain to a bad value: {error}"
        ) from None
