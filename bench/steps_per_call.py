"""Benchmark: search child steps per second vs steps per call, replicas and arc sampling.

The search's compiled child loop runs `n` steps per `tf.function` call (`steps_per_loop`, a
`tf.range` loop; docs/DESIGN.md rule 7) so that the per-call dispatch, large on a TPU, is paid once
per n steps. This prints child steps/second of the real `SearchSteps.train_child` on the
config's data for n in `--loops`, on one replica (the default strategy) and on two replicas
(MirroredStrategy over two logical CPUs, the multi-device proxy) with both arc-sampling modes
(`per_replica`: each replica its own sampled child; `shared`: one child per step), and the
controller's updates per second the same way. The global batch is the config's in every
row, so two CPU replicas split the same work (on two physical cores they also share them).

Usage:
    python bench/steps_per_call.py                                  # configs/quickstart.py
    python bench/steps_per_call.py --config=configs/tiny.py:space=rnn --loops=1,20
    python bench/steps_per_call.py --config.search.batch_size=64    # any override

Not a test: numbers depend on the machine. Record them in BUILD_NOTES.md with the command.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf  # noqa: E402

# Two logical CPUs for the MirroredStrategy rows: before TensorFlow initialises its devices.
_CPU = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_CPU, [tf.config.LogicalDeviceConfiguration()] * 2)

import ml_collections  # noqa: E402
from absl import app, flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from enas_tf import search as search_lib  # noqa: E402
from enas_tf.runtime import replicas  # noqa: E402
from enas_tf.tasks import load_task  # noqa: E402

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CONFIG = config_flags.DEFINE_config_file(
    "config", os.path.join(_REPO, "configs", "quickstart.py"), "run config (search section)"
)
_LOOPS = flags.DEFINE_list("loops", ["1", "10"], "steps per call to compare")
_STEPS = flags.DEFINE_integer("steps", 40, "timed child steps per row (after a warm-up call)")
_CONTROLLER_STEPS = flags.DEFINE_integer("controller_steps", 10, "timed controller updates")


def _time_calls(function, total: int, per_call: int) -> float:
    """Seconds for `total` steps in calls of `per_call` steps (the result fetched each call)."""
    start = time.perf_counter()
    for _ in range(total // per_call):
        values = function(tf.constant(per_call))
        float(next(iter(values.values())))  # wait for the call, as the eager loop does
    return time.perf_counter() - start


def bench_rows(config, strategy, label: str, loops) -> list[tuple]:
    task = load_task(config)
    search = search_lib.Search(config, "/tmp/enas_bench_steps", strategy, task, False)
    search.task.reset_child_state()
    train = iter(
        replicas.distribute_global_batches(strategy, lambda: search.train_dataset(0, 0).repeat())
    )
    valid = search.valid_iterator(shuffle_seed=0)
    child = lambda n: search.steps.train_child(train, n)  # noqa: E731
    controller = lambda n: search.steps.train_controller(valid, n)  # noqa: E731
    start = time.perf_counter()
    child(tf.constant(1))
    controller(tf.constant(1))
    trace_s = time.perf_counter() - start
    rows = []
    for n in loops:
        child(tf.constant(n))  # warm-up at this n (no retrace: n is a tensor)
        child_s = _time_calls(child, _STEPS.value, n)
        ctrl_s = _time_calls(controller, _CONTROLLER_STEPS.value, min(n, _CONTROLLER_STEPS.value))
        rows.append(
            (
                label,
                n,
                _STEPS.value / child_s,
                _CONTROLLER_STEPS.value / ctrl_s,
                trace_s,
            )
        )
        print(f"  {label} n={n}: {rows[-1][2]:.2f} child steps/s", flush=True)
    return rows


def main(argv):
    del argv
    base = _CONFIG.value
    loops = [int(n) for n in _LOOPS.value]
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])  # one per process
    rows = []
    setups = [
        (tf.distribute.get_strategy(), "per_replica", "1 replica"),
        (mirrored, "per_replica", "2 replicas, per-replica arcs"),
        (mirrored, "shared", "2 replicas, shared arc"),
    ]
    for strategy, sampling, label in setups:
        config = ml_collections.ConfigDict(base.to_dict())
        config.search.arc_sampling = sampling
        rows += bench_rows(config, strategy, label, loops)
    print(
        f"\nconfig {os.path.basename(flags.FLAGS['config'].config_filename)}, space "
        f"{base.space}, global batch {base.search.batch_size}, {_STEPS.value} child steps / "
        f"{_CONTROLLER_STEPS.value} controller updates per row\n"
    )
    print("| setup | steps per call | child steps/s | controller updates/s | first calls (s) |")
    print("|---|---|---|---|---|")
    for label, n, child_rate, ctrl_rate, trace_s in rows:
        print(f"| {label} | {n} | {child_rate:.2f} | {ctrl_rate:.2f} | {trace_s:.1f} |")


if __name__ == "__main__":
    app.run(main)
