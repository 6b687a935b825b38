"""Numeric precision of a run: float32, or bfloat16 compute with float32 weights on TPU.

`mixed_bfloat16` is the Keras mixed-precision policy: layers compute in bfloat16 (the TPU's
native matmul type, half the memory traffic) while variables and optimizer state stay float32.
Loss-scaling is not needed for bfloat16 (its exponent range is float32's). The controller and
the REINFORCE math (logits, log-probabilities, entropy, rewards, baseline) are float32 always:
`enas_tf.policy.controller` builds its layers with `dtype="float32"`, since rounding a
log-probability to 8 mantissa bits would swamp the small policy-gradient signal.
"""

from __future__ import annotations

import keras

from enas_tf.runtime import strategy as strategy_lib


def resolve(setting: str, strategy) -> str:
    """The policy name for the config's `precision` ('auto': mixed_bfloat16 on TPU only)."""
    if setting == "auto":
        return "mixed_bfloat16" if strategy_lib.is_tpu(strategy) else "float32"
    return setting


def set_precision(setting: str, strategy) -> str:
    """Sets the global Keras dtype policy for the models built after this call.

    Args:
      setting: `config.precision`: 'auto', 'float32' or 'mixed_bfloat16'.
      strategy: the run's strategy (decides 'auto').

    Returns:
      The policy name in force.
    """
    name = resolve(setting, strategy)
    keras.mixed_precision.set_global_policy(name)
    return name
