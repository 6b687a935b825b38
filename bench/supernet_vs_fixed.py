"""Benchmark: one child training step of the shared supernet vs. the fixed child of the same arc.

Prints a table: trace/compile time, ms per step (median over timed steps) for both models on the
same batch and shapes, their ratio, and the supernet's trace count after stepping through 50
different sampled arcs (1 = one compiled graph serves every architecture).

Usage (defaults: the search config's model, configs/cifar10_micro.py, at batch 160 on 32x32):
    python bench/supernet_vs_fixed.py
    python bench/supernet_vs_fixed.py --num_layers=3 --filters=8 --num_nodes=3 --batch=32 \
        --image_size=16           # the quickstart's search model

Not a test: numbers depend on the machine. Record them in BUILD_NOTES.md with the command.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from enas_tf import configs as config_lib  # noqa: E402
from enas_tf import training  # noqa: E402
from enas_tf.models.micro import MicroChild, MicroSupernet  # noqa: E402
from enas_tf.spaces import micro  # noqa: E402

_LAYERS = flags.DEFINE_integer("num_layers", 6, "normal cells (search config: 6)")
_FILTERS = flags.DEFINE_integer("filters", 20, "base filters (search config: 20)")
_NODES = flags.DEFINE_integer("num_nodes", 5, "computed nodes per cell (search config: 5)")
_BATCH = flags.DEFINE_integer("batch", 160, "batch size (search config: 160)")
_SIZE = flags.DEFINE_integer("image_size", 32, "image height and width")
_STEPS = flags.DEFINE_integer("steps", 20, "timed steps per model (after one warm-up step)")
_ARCS = flags.DEFINE_integer("arcs", 50, "different arcs stepped through for the trace count")
_JIT = flags.DEFINE_bool("jit_compile", False, "XLA-compile both steps")
_SEARCH = config_lib.base_config().search  # optimizer, l2, clipping and aux weight of the search


def make_step(model, optimizer, supernet: bool):
    variables = model.trainable_variables
    # Built here, as the search does: a tf.function that creates variables traces twice.
    optimizer.build(variables)

    def step(images, labels, tokens):
        with tf.GradientTape() as tape:
            if supernet:
                logits, aux = model(images, tokens, training=True)
            else:
                logits, aux = model(images, training=True)
            loss = training.classification_loss(
                logits, aux, labels, aux_weight=_SEARCH.aux_weight, global_batch_size=_BATCH.value
            )
            total = loss + _SEARCH.optimizer.l2 * training.l2_penalty(variables)
        grads = tape.gradient(total, variables)
        training.apply_clipped_gradients(optimizer, grads, variables, _SEARCH.optimizer.grad_clip)
        return loss

    return tf.function(step, jit_compile=_JIT.value)


def time_steps(step, images, labels, tokens_list):
    start = time.perf_counter()
    step(images, labels, tokens_list[0]).numpy()
    first = time.perf_counter() - start
    times = []
    for i in range(_STEPS.value):
        start = time.perf_counter()
        step(images, labels, tokens_list[i % len(tokens_list)]).numpy()
        times.append(time.perf_counter() - start)
    return first, 1000 * statistics.median(times)


def main(argv):
    del argv
    rng = np.random.default_rng(0)
    shape = (_SIZE.value, _SIZE.value, 3)
    images = tf.constant(rng.normal(size=(_BATCH.value, *shape)), tf.float32)
    labels = tf.constant(rng.integers(0, 10, _BATCH.value), tf.int32)
    arc = micro.sample_random_arc(_NODES.value, rng)
    tokens = tf.constant(arc.to_tokens(), tf.int32)
    common = dict(num_classes=10, num_layers=_LAYERS.value, filters=_FILTERS.value)

    start = time.perf_counter()
    supernet = MicroSupernet(num_nodes=_NODES.value, use_aux_head=True, **common)
    supernet.materialize(shape)
    build_s = time.perf_counter() - start
    super_opt = training.make_child_optimizer(_SEARCH.optimizer, 100)
    super_step = make_step(supernet, super_opt, supernet=True)
    super_first, super_ms = time_steps(super_step, images, labels, [tokens])

    child = MicroChild(arc, use_aux_head=True, **common)
    child(tf.zeros([2, *shape]), training=True)
    child_opt = training.make_child_optimizer(_SEARCH.optimizer, 100)
    child_step = make_step(child, child_opt, supernet=False)
    child_first, child_ms = time_steps(child_step, images, labels, [tokens])

    arcs = [
        tf.constant(micro.sample_random_arc(_NODES.value, rng).to_tokens(), tf.int32)
        for _ in range(_ARCS.value)
    ]
    for arc_tokens in arcs:
        super_step(images, labels, arc_tokens)
    traces = super_step.experimental_get_tracing_count()

    print(
        f"model: {_LAYERS.value} normal cells, {_FILTERS.value} filters, {_NODES.value} nodes, "
        f"batch {_BATCH.value} x {shape}, jit_compile={_JIT.value}, "
        f"{supernet.count_params()} supernet / {child.count_params()} child params"
    )
    print(f"arc: normal [{arc.to_string()[0]}] reduction [{arc.to_string()[1]}]")
    print("| model | build s | first step (trace+run) s | ms/step (median) |")
    print("|---|---|---|---|")
    print(f"| supernet (switch_case) | {build_s:.1f} | {super_first:.1f} | {super_ms:.1f} |")
    print(f"| fixed child | - | {child_first:.1f} | {child_ms:.1f} |")
    print(f"supernet / fixed: {super_ms / child_ms:.2f}x")
    print(
        f"supernet traces after {_ARCS.value} different arcs (+{_STEPS.value + 1} steps): {traces}"
    )


if __name__ == "__main__":
    app.run(main)
