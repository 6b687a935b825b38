"""Numbers in a config that no run can mean: NaN, infinities, and sizes beyond any machine.

The per-key checks (`validation`, `enas_tf.spaces.config_checks`) say what each key allows in
words a user of that key understands; they compare, and a comparison with NaN is false, so a
NaN would be blamed on whatever it was compared with (`lr_min` must be in [0, lr_max=nan]).
`check_numbers` runs first and names the key that holds the NaN. It also bounds counts and
sizes so that a mistyped `--config.search.epochs=99999999999999999999` stops at once instead
of training towards an ETA of millions of hours: the bounds are far above the paper's
settings (310 search epochs, 630 retrain epochs, 24 macro layers, 12 RNN nodes) and below
what would overflow a step counter.
"""

from __future__ import annotations

import math
from typing import Any, Iterator

from enas_tf.errors import ConfigError

# (key suffix, upper bound, what it is); the first suffix that matches a key applies.
_BOUNDS = (
    ("epochs", 100_000, "epochs"),
    ("batch_size", 1 << 20, "examples per batch"),
    ("num_nodes", 64, "nodes per cell"),
    ("num_layers", 256, "layers"),
    ("filters", 1 << 14, "channels"),
    ("_steps", 1_000_000_000, "steps"),
    ("steps_per_loop", 1_000_000, "steps per call"),
    ("num_random", 100_000, "arcs"),
    ("num_candidates", 100_000, "arcs"),
    ("score_batches", 1_000_000, "minibatches"),
)
_INT_LIMIT = (1 << 53) - 1  # every integer a JSON reader and a float64 keep exactly
# The largest `config.seed` every stage can use. The seed is spread into int64 stateless seeds
# (`tf.random.experimental.stateless_shuffle` of the input pipelines, `tf.constant(seed,
# tf.int64)`) as `seed * 1_000_003 + stream` with streams below 2**20 (search checks, derive,
# the audit's minibatches), so a larger seed passed the integer limit above and then raised
# OverflowError minutes later, after config.json was written. NumPy's `default_rng` (the
# audit's random arcs) refuses negative seeds.
_SEED_MULTIPLIER, _SEED_STREAMS = 1_000_003, 1 << 20
MAX_SEED = ((1 << 63) - 1 - _SEED_STREAMS) // _SEED_MULTIPLIER


def _leaves(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every number in a nested dict / list (bools are not numbers)."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _leaves(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{key}[{index}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield key, value


def check_numbers(config) -> None:
    """Refuses non-finite floats, integers out of range and absurd counts, naming the key.

    Raises:
      ConfigError: e.g. "config.search.optimizer.lr_max=nan: must be a finite number".
    """
    for key, value in _leaves(config.to_dict()):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"config.{key}={value}: must be a finite number")
        if isinstance(value, int) and abs(value) > _INT_LIMIT:
            raise ConfigError(f"config.{key}={value}: out of range (at most {_INT_LIMIT:.3g})")
        leaf = key.rsplit(".", 1)[-1]
        for suffix, bound, what in _BOUNDS:
            if leaf.endswith(suffix):
                if value > bound:
                    raise ConfigError(
                        f"config.{key}={value}: more {what} than any run can use (at most "
                        f"{bound:,}); check for a typo"
                    )
                break
    if "seed" in config:
        check_seed(config.seed)


def check_seed(seed: int) -> None:
    """Refuses a run seed outside [0, MAX_SEED], the range every stage's seeds fit in.

    Raises:
      ConfigError: naming the range and why it ends there.
    """
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(
            f"config.seed={seed}: must be in [0, {MAX_SEED:,}] (the seeds of the input "
            "pipelines and checks are derived from it as 64-bit integers)"
        )
