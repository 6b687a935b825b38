"""One seed, one run: the random state every stage starts from.

The sampled architectures, data order and derive's candidates already come from stateless or
explicitly seeded generators (`config.seed`); what did not was everything Keras draws from
its global state, the supernet's and the child's initial weights first of all, so two runs
of one config derived different architectures. `seed_stage` sets Python's, NumPy's,
TensorFlow's and Keras's global seeds from `config.seed` and the stage's name right before
the stage builds its models: a stage run alone (`--mode=retrain`) starts from the same
weights as the same stage after a search in the same process.

`config.deterministic` also asks TensorFlow for deterministic kernels
(`tf.config.experimental.enable_op_determinism`): the same config and seed on the same
machine then give the same arc.json and result.json (README, "Reproducibility", says what is
and is not covered).
"""

from __future__ import annotations

import zlib

import keras
import tensorflow as tf

_STAGES = ("search", "retrain")


def stage_seed(seed: int, stage: str) -> int:
    """The seed of `stage` (a stable hash of its name, so stages draw different weights)."""
    if stage not in _STAGES:
        raise ValueError(f"stage={stage!r}: must be one of {_STAGES}")
    return (int(seed) * 1_000_003 + zlib.crc32(stage.encode())) % (2**31 - 1)


def seed_stage(config, stage: str) -> None:
    """Seeds every global random state for `stage`; deterministic kernels if configured."""
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(stage_seed(config.seed, stage))
