"""Run configs: the schema with its defaults, validation, and config-file arguments.

A config file (`configs/*.py`, big_vision style `get_config(arg)`) returns a locked
`ml_collections.ConfigDict`; command-line overrides (`--config.search.epochs=3`) may change
values but never add keys, so a misspelt key is an error instead of a silently ignored setting
(a complaint about the original ENAS code).

* `defaults`: every key with its default, per space; the controller presets.
* `validation`: `validate(config)`, `check_batch_sizes` and `audit_retrain_config` (the retrain
  budget of `--mode=audit`).
* `arguments`: `parse_arg` for `configs/x.py:key=value`.
"""

from enas_tf.config.arguments import parse_arg
from enas_tf.config.defaults import (
    CONTROLLER_PRESETS,
    apply_controller_preset,
    audit_section,
    base_config,
    macro_base_config,
    optimizer_section,
    policy_section,
    rnn_base_config,
)
from enas_tf.config.validation import (
    ARC_SAMPLING,
    JIT_CHOICES,
    POLICIES,
    PRECISIONS,
    SPACES,
    audit_retrain_config,
    check_batch_sizes,
    validate,
)
from enas_tf.errors import ConfigError

__all__ = [
    "ARC_SAMPLING",
    "CONTROLLER_PRESETS",
    "ConfigError",
    "JIT_CHOICES",
    "POLICIES",
    "PRECISIONS",
    "SPACES",
    "apply_controller_preset",
    "audit_retrain_config",
    "audit_section",
    "base_config",
    "check_batch_sizes",
    "macro_base_config",
    "optimizer_section",
    "parse_arg",
    "policy_section",
    "rnn_base_config",
    "validate",
]
