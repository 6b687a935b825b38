"""Config checks that run before anything is written: a bad value fails in seconds.

`validate` checks the keys every run has and asks the search space for its own checks
(`registry.of(config).check_config()`, `enas_tf.spaces.config_checks`); `check_batch_sizes`
checks batch sizes against the loaded data. Every message names the key, its value and what is
allowed (`enas_tf.errors.require`).
"""

from __future__ import annotations

import ml_collections

from enas_tf.config.limits import check_numbers
from enas_tf.errors import ConfigError, require
from enas_tf.spaces import registry

SPACES = registry.names()
JIT_CHOICES = ("auto", "true", "false")
ARC_SAMPLING = ("per_replica", "shared")
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
POLICIES = ("enas", "random")


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
                "it, or use more data (data.max_train_examples, data.num_valid)"
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
    check = config.search.check
    require(check.num_arcs >= 2, "search.check.num_arcs", check.num_arcs, "must be >= 2")
    require(check.num_batches >= 1, "search.check.num_batches", check.num_batches, "must be >= 1")
    require(config.steps_per_loop >= 1, "steps_per_loop", config.steps_per_loop, "must be >= 1")
    require(
        config.checkpoint_every_steps >= 0,
        "checkpoint_every_steps",
        config.checkpoint_every_steps,
        "must be >= 0 (0 = at phase ends only)",
    )
    registry.of(config).check_config()
    _validate_controller(config.search.controller)
    _validate_derive(config.derive)


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
