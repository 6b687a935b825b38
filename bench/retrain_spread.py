"""Can a task tell cells apart? Retrained cells' spread against one retrain's noise (issue #24).

An audit (`--mode=audit`) can only show a search beating random if random cells, retrained at
the audit's budget, differ by more than one retrain's noise. This bench retrains
`--num_random` uniformly random arcs (the audit's own random stream for `--config.seed`, so
they are the arcs an audit of a run with that seed draws) and, for the micro space, four
one-op cells (every op a 5x5 / 3x3 separable conv, max pooling, identity), each with every
seed of `--seeds`, exactly as the audit retrains them (`pipeline.retrain_arc` with
`config.audit_retrain_config`). It prints each arc's valid accuracy per seed, the spread of
the seed means between arcs, and one retrain's noise (sd from the seed-to-seed differences).

Usage (BUILD_NOTES, "Session 10"):
    python bench/retrain_spread.py --config=configs/quickstart.py --num_random=12 --seeds=0,1

Each arc trains in `--workdir/<arc>/s<seed>/` and is kept: a rerun reuses finished arcs. Not
a test.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from enas_tf import audit, pipeline  # noqa: E402
from enas_tf import config as config_lib  # noqa: E402
from enas_tf.runtime import strategy as strategy_lib  # noqa: E402
from enas_tf.spaces import registry  # noqa: E402
from enas_tf.tasks import load_task  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file("config", "configs/quickstart.py", "run config")
_NUM_RANDOM = flags.DEFINE_integer("num_random", 12, "uniformly random arcs to retrain")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1"], "retrain seeds (config.seed of each retrain)")
_WORKDIR = flags.DEFINE_string("workdir", "runs/retrain_spread", "where the retrains go")

# Micro cells of one op (2 nodes: each node reads both cell inputs / the first node).
_ONE_OP_MICRO = {"all_sep5": 1, "all_sep3": 0, "all_max": 3, "all_identity": 4}


def arcs_to_retrain(config, num_random: int) -> dict:
    """{name: arc}: the audit's random arcs for `config.seed`, then the one-op micro cells."""
    space = registry.of(config)
    rng = np.random.default_rng([config.seed, audit.RANDOM_STREAM])
    arcs = {f"random_{i + 1}": space.sample_random_arc(rng) for i in range(num_random)}
    if config.space == "micro" and config.search.model.num_nodes == 2:
        for name, op in _ONE_OP_MICRO.items():
            cell = [0, op, 1, op, 0, op, 2, op]
            arcs[name] = space.arc_from_tokens(cell + cell)
    return arcs


def spread_summary(scores: dict) -> str:
    """Per-arc seed means: range and sd between arcs; one retrain's noise from seed pairs."""
    means = {name: float(np.mean(v)) for name, v in scores.items()}
    lines = [f"{n:14s} " + " ".join(f"{s:.3f}" for s in scores[n]) for n in scores]
    paired = [v for v in scores.values() if len(v) >= 2]
    for label, names in (("all arcs", list(scores)), ("random arcs", _random(scores))):
        values = np.array([means[n] for n in names])
        if len(values) >= 2:
            lines.append(
                f"{label}: {len(values)}, seed means {values.min():.3f}-{values.max():.3f}, "
                f"sd between arcs {values.std(ddof=1):.3f}"
            )
    if paired:
        # sd of one retrain from the variance of each arc's seeds around its mean.
        noise = np.sqrt(np.mean([np.var(v, ddof=1) for v in paired]))
        lines.append(f"one retrain's noise: sd {noise:.3f} ({len(paired)} arcs with >= 2 seeds)")
    return "\n".join(lines)


def _random(scores: dict) -> list[str]:
    return [n for n in scores if n.startswith("random_")]


def main(argv):
    del argv
    config = _CONFIG.value
    retrain_config = config_lib.audit_retrain_config(config)
    task = load_task(retrain_config)
    strategy = strategy_lib.create_strategy("")
    arcs = arcs_to_retrain(config, _NUM_RANDOM.value)
    print(f"{task.description}; {len(arcs)} arcs x seeds {_SEEDS.value}", flush=True)
    scores = {name: [] for name in arcs}
    for seed in (int(s) for s in _SEEDS.value):
        with_seed = retrain_config.copy_and_resolve_references()
        with with_seed.unlocked():
            with_seed.seed = seed
        for name, arc in arcs.items():
            started = time.time()
            workdir = os.path.join(_WORKDIR.value, name, f"s{seed}")
            result = pipeline.retrain_arc(with_seed, workdir, strategy, task, arc, False)
            score = result[f"valid_{task.metric}"]
            scores[name].append(score)
            print(
                f"  {name} seed {seed}: valid {score:.4f} ({time.time() - started:.0f} s)",
                flush=True,
            )
    print(spread_summary(scores))


if __name__ == "__main__":
    app.run(main)
