"""Can each space's controller learn a known reward? Learning curves with the configured settings.

Drives the search's own controller update (`enas_tf.policy.controller_training`, through
`enas_tf.policy.controller_probe`) with rewards that are known functions of the sampled tokens, for
the search config users run (`:controller=learnable`, the default) and the paper's / original
code's settings (`:controller=paper`), and prints one row per (space, settings, reward):

    updates to reach 50% / 90% of the reward's maximum (1.0), the mean reward over the first
    and last 20 updates, the entropy at the start and end, and the highest probability the
    tanh settings allow one op (a saturated sep-conv bias counts as two ops pinned at the top).

Rewards: `op` = the fraction of op decisions that pick one op (micro max_pool_3x3, macro
max_pool, rnn relu); `target` = the fraction of tokens agreeing with a hidden random arc.

Usage:
    python bench/controller_learning.py                      # all spaces, 300 updates
    python bench/controller_learning.py --spaces=micro --updates=600 --rewards=target

Not a test (tests/controller_learning_test.py asserts a short version); results in
BUILD_NOTES.md.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from configs import cifar10_macro, cifar10_micro, ptb_rnn  # noqa: E402
from enas_tf import search
from enas_tf.policy import controller_probe  # noqa: E402
from enas_tf.search import reports as search_reports
from enas_tf.spaces import registry  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_list("spaces", ["micro", "macro", "rnn"], "Spaces to probe.")
flags.DEFINE_list("presets", ["learnable", "paper"], "Controller settings (config :controller=).")
flags.DEFINE_list("rewards", ["op", "target"], "Known rewards: op, target.")
flags.DEFINE_integer("updates", 300, "Controller updates per run.")
flags.DEFINE_integer("seed", 0, "Seed of the controller weights and the sampling.")

_CONFIGS = {"micro": cifar10_micro, "macro": cifar10_macro, "rnn": ptb_rnn}
# The op the `op` reward prefers: one the original micro bias does not favour.
_PREFERRED_OP = {"micro": "max_pool_3x3", "macro": "max_pool_3x3", "rnn": "relu"}


def _ceiling(config) -> float:
    ctrl = config.search.controller
    names = search_reports.choice_names(config)
    pinned = 0
    if config.space == "micro" and ctrl.op_bias_init and ctrl.tanh_constant:
        # A bias whose tanh is saturated (|b| >= 3: tanh > 0.995) stays at the top.
        pinned = 2 if ctrl.op_bias_init >= 3.0 else 0
    return controller_probe.max_op_probability(
        len(names), ctrl.tanh_constant or None, ctrl.op_tanh_reduce, pinned_at_top=pinned
    )


def _score_fn(config, reward: str):
    space = registry.of(config)
    program = space.decision_program()
    if reward == "op":
        op = search_reports.choice_names(config).index(_PREFERRED_OP[config.space])
        return controller_probe.op_preference(program, op)
    rng = np.random.default_rng(1)
    target = space.supernet_tokens(space.sample_random_arc(rng))
    return controller_probe.target_agreement(target)


def main(argv):
    del argv
    rows = []
    for space in FLAGS.spaces:
        for preset in FLAGS.presets:
            config = _CONFIGS[space].get_config(f"controller={preset}")
            for reward in FLAGS.rewards:
                keras.utils.set_random_seed(FLAGS.seed)
                start = time.time()
                trainer = controller_probe.build_probe(
                    config, _score_fn(config, reward), search.build_controller, seed=FLAGS.seed
                )
                curve = controller_probe.run_probe(trainer, FLAGS.updates)
                ctrl = config.search.controller
                rows.append(
                    (
                        space,
                        preset,
                        reward,
                        f"tanh {ctrl.tanh_constant:g}/{ctrl.op_tanh_reduce:g}"
                        f" T {ctrl.temperature:g} bias {ctrl.op_bias_init:g}"
                        f" lr {ctrl.learning_rate:g} ent {ctrl.entropy_weight:g}"
                        f" x{ctrl.num_aggregate}",
                        curve.updates_to_reach(0.5),
                        curve.updates_to_reach(0.9),
                        float(np.mean(curve.scores[:20])),
                        float(np.mean(curve.scores[-20:])),
                        curve.entropies[0],
                        curve.entropies[-1],
                        _ceiling(config),
                        time.time() - start,
                    )
                )
                print(f"done {space} {preset} {reward} in {rows[-1][-1]:.0f} s", flush=True)
    print(
        f"\n{FLAGS.updates} updates per run; reward maximum 1.0; '-' = not reached\n"
        "| space | settings | reward | controller | to 50% | to 90% | first 20 | last 20 | "
        "entropy start -> end | max P(one op) | s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        reach = lambda v: "-" if v is None else str(v)  # noqa: E731
        print(
            f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {reach(r[4])} | {reach(r[5])} | {r[6]:.2f} | "
            f"{r[7]:.2f} | {r[8]:.1f} -> {r[9]:.1f} | {r[10]:.3f} | {r[11]:.0f} |"
        )


if __name__ == "__main__":
    app.run(main)
