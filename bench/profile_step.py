"""Op-level profile of one child training step: where the supernet's extra time goes.

Runs the same step as `supernet_vs_fixed.py` for one model under the TensorFlow profiler and
prints the TensorFlow ops that took the most CPU time per step (summed over the executor's
threads, so the total exceeds wall time on a multi-core machine).

Usage (same --config and flags as supernet_vs_fixed.py):
    python bench/profile_step.py --model=supernet --config.search.model.num_layers=3 \
        --config.search.model.num_nodes=3
    python bench/profile_step.py --model=child ...   # the fixed child of the same arc
    python bench/profile_step.py --config=configs/cifar10_macro.py   # the macro supernet

Not a test. The profile also lands in --logdir for TensorBoard's profile plugin.
"""

from __future__ import annotations

import collections
import glob
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import supernet_vs_fixed as bench  # noqa: E402  (its flags and step function)
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

from enas_tf import training  # noqa: E402

_TOP = flags.DEFINE_integer("top", 20, "ops to print")
_LOGDIR = flags.DEFINE_string("logdir", "", "profile output (default: a temporary directory)")
_PROFILED_STEPS = 3


def op_times(logdir: str) -> tuple[collections.Counter, collections.Counter]:
    """CPU microseconds and event counts per TensorFlow op type, from the profile's XSpace."""
    paths = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
    space = xplane_pb2.XSpace()
    with open(paths[0], "rb") as f:
        space.ParseFromString(f.read())
    micros, counts = collections.Counter(), collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue  # executor threads only; other lines are Python and runtime spans
            for event in line.events:
                op_type = plane.event_metadata[event.metadata_id].name.split(":")[-1]
                micros[op_type] += event.duration_ps / 1e6
                counts[op_type] += 1
    return micros, counts


def main(argv):
    del argv
    bench.configure_graph_optimizer()
    rng = np.random.default_rng(0)
    shape = (bench._SIZE.value, bench._SIZE.value, 3)
    batch = bench.batch_size()
    images = tf.constant(rng.normal(size=(batch, *shape)), tf.float32)
    labels = tf.constant(rng.integers(0, 10, batch), tf.int32)
    # --model is supernet_vs_fixed.py's flag; "both" (its default) profiles the supernet.
    which = "child" if bench._MODEL.value == "child" else "supernet"
    models, _, tokens, _ = bench.build_models(rng, shape, which=(which,))
    model = models[which]
    optimizer = training.make_child_optimizer(bench._CONFIG.value.search.optimizer, 100)
    step = bench.make_step(model, optimizer, supernet=which == "supernet")

    step(images, labels, tokens).numpy()  # trace
    times = []
    for _ in range(5):
        start = time.perf_counter()
        step(images, labels, tokens).numpy()
        times.append(time.perf_counter() - start)
    logdir = _LOGDIR.value or tempfile.mkdtemp(prefix="enas_profile_")
    tf.profiler.experimental.start(logdir)
    for _ in range(_PROFILED_STEPS):
        step(images, labels, tokens).numpy()
    tf.profiler.experimental.stop()

    micros, counts = op_times(logdir)
    total = sum(v for k, v in micros.items() if k != "Process")
    print(
        f"{which}: {1000 * statistics.median(times):.1f} ms/step wall (median of 5); "
        f"{total / 1000 / _PROFILED_STEPS:.1f} ms/step of op CPU time; profile in {logdir}"
    )
    print("| op | CPU ms/step | ops/step |")
    print("|---|---|---|")
    for op_type, value in micros.most_common(_TOP.value + 1):
        if op_type == "Process":  # the executor's per-node wrapper span, not an op
            continue
        print(
            f"| {op_type} | {value / 1000 / _PROFILED_STEPS:.1f} | "
            f"{counts[op_type] // _PROFILED_STEPS} |"
        )


if __name__ == "__main__":
    app.run(main)
