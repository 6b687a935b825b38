"""Benchmark: one child training step of the shared supernet vs. the fixed child of the same arc.

Prints a table: trace/compile time, ms per step (median over timed steps) for both models on the
same batch and shapes, their ratio, and the supernet's trace count after stepping through 50
different sampled arcs (1 = one compiled graph serves every architecture).

The models, batch size, optimizer, l2, clipping and aux weight are the search section of a
config (any space); the fixed child is built at the *search* model's shapes (`double_filters`
as the search's), so the two steps do the same work but for the routing.

Usage (default: configs/cifar10_micro.py's search, batch 160 on 32x32):
    python bench/supernet_vs_fixed.py
    python bench/supernet_vs_fixed.py --config=configs/cifar10_macro.py    # macro search
    python bench/supernet_vs_fixed.py --config=configs/ptb_rnn.py          # rnn (PTB) search
    python bench/supernet_vs_fixed.py --config=configs/quickstart.py --image_size=16
    python bench/supernet_vs_fixed.py --config.search.model.num_layers=3   # any override
    python bench/supernet_vs_fixed.py --batch=160 --model=supernet         # peak memory, alone

Not a test: numbers depend on the machine. Record them in BUILD_NOTES.md with the command.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from enas_tf import training  # noqa: E402
from enas_tf.runtime import strategy as strategy_lib  # noqa: E402
from enas_tf.spaces import registry  # noqa: E402

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CONFIG = config_flags.DEFINE_config_file(
    "config", os.path.join(_REPO, "configs", "cifar10_micro.py"), "run config (search section)"
)
_BATCH = flags.DEFINE_integer("batch", 0, "batch size (0: the config's search.batch_size)")
_SIZE = flags.DEFINE_integer("image_size", 32, "image height and width")
_STEPS = flags.DEFINE_integer("steps", 20, "timed steps per model (after one warm-up step)")
_ARCS = flags.DEFINE_integer("arcs", 50, "different arcs stepped through for the trace count")
_JIT = flags.DEFINE_bool("jit_compile", False, "XLA-compile both steps")
_VOCAB = flags.DEFINE_integer("vocab", 10_000, "rnn space: vocabulary size (PTB: 10,000)")
_MODEL = flags.DEFINE_enum(
    "model",
    "both",
    ["both", "supernet", "child"],
    "time one model alone (its own process: the printed peak resident memory is then that "
    "model's build, trace and steps, plus the TensorFlow runtime)",
)


def batch_size() -> int:
    return _BATCH.value or _CONFIG.value.search.batch_size


def build_models(rng, shape, which=("supernet", "child")):
    """The config's supernet and the fixed child of one random arc at the search's shapes.

    Returns:
      (models dict, arc, the arc's supernet tokens, supernet build seconds).
    """
    config = _CONFIG.value
    space = registry.of(config)
    arc = space.sample_random_arc(rng)
    tokens = tf.constant(space.supernet_tokens(arc), tf.int32)
    if config.space == "rnn":
        data, child_options = {"vocab_size": _VOCAB.value}, {}
    else:
        data, child_options = (
            {"num_classes": 10, "image_shape": shape},
            {"drop_path_keep_prob": 1.0},
        )
    models, build_s = {}, 0.0
    if "supernet" in which:
        start = time.perf_counter()
        models["supernet"] = space.build_supernet(**data)
        build_s = time.perf_counter() - start
    if "child" in which:
        models["child"] = space.build_child(
            arc, model_config=config.search.model, **data, **child_options
        )
    return models, arc, tokens, build_s


def make_step(model, optimizer, supernet: bool):
    search = _CONFIG.value.search
    variables = model.trainable_variables
    # Built here, as the search does: a tf.function that creates variables traces twice.
    # No autograph, as the search's step functions (enas_tf/search/steps.py).
    optimizer.build(variables)

    def lm_step(inputs, targets, tokens):
        state = tf.zeros([tf.shape(inputs)[0], model.hidden_size])
        with tf.GradientTape() as tape:
            if supernet:
                logits, _ = model(inputs, state, tokens, training=True)
            else:
                logits, _ = model(inputs, state, training=True)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
            )
            total = loss + search.optimizer.l2 * training.l2_penalty(model.cell.trainable_variables)
        grads = tape.gradient(total, variables)
        training.apply_clipped_gradients(optimizer, grads, variables, search.optimizer.grad_clip)
        return loss

    if _CONFIG.value.space == "rnn":
        return tf.function(lm_step, jit_compile=_JIT.value, autograph=False)

    def step(images, labels, tokens):
        with tf.GradientTape() as tape:
            if supernet:
                logits, aux = model(images, tokens, training=True)
            else:
                logits, aux = model(images, training=True)
            loss = training.classification_loss(
                logits,
                aux,
                labels,
                aux_weight=search.get("aux_weight", 0.0),
                global_batch_size=batch_size(),
            )
            total = loss + search.optimizer.l2 * training.l2_penalty(variables)
        grads = tape.gradient(total, variables)
        training.apply_clipped_gradients(optimizer, grads, variables, search.optimizer.grad_clip)
        return loss

    return tf.function(step, jit_compile=_JIT.value, autograph=False)


def make_optimizer():
    """The search's child optimizer (schedule over a nominal 100-step epoch)."""
    search = _CONFIG.value.search
    if _CONFIG.value.space == "rnn":
        return training.make_lm_optimizer(search.optimizer, 100)
    return training.make_child_optimizer(search.optimizer, 100)


def first_step(step, images, labels, tokens) -> float:
    """Seconds of the first call: tracing, graph optimisation and one run."""
    start = time.perf_counter()
    step(images, labels, tokens).numpy()
    return time.perf_counter() - start


def time_steps(steps, images, labels, tokens) -> list[list[float]]:
    """Milliseconds per call of each step, the steps taking turns (A B A B ...).

    Taking turns keeps the two models' figures comparable when the machine's speed drifts
    during the run (a shared or throttled CPU): the ratio is taken pair by pair.
    """
    times = [[] for _ in steps]
    for _ in range(_STEPS.value):
        for step, model_times in zip(steps, times, strict=True):
            start = time.perf_counter()
            step(images, labels, tokens).numpy()
            model_times.append(1000 * (time.perf_counter() - start))
    return times


def configure_graph_optimizer() -> bool:
    """As a run does: the config's `graph_optimizer` (auto: off on CPUs; `=on` to compare)."""
    return strategy_lib.configure_graph_optimizer(
        _CONFIG.value.graph_optimizer, tf.distribute.get_strategy()
    )


def main(argv):
    del argv
    config = _CONFIG.value
    graph_optimizer = configure_graph_optimizer()
    rng = np.random.default_rng(0)
    shape = (_SIZE.value, _SIZE.value, 3)
    if config.space == "rnn":  # a [batch, bptt] window of token ids and its targets
        shape = (config.search.bptt,)
        images = tf.constant(rng.integers(0, _VOCAB.value, (batch_size(), *shape)), tf.int32)
        labels = tf.constant(rng.integers(0, _VOCAB.value, (batch_size(), *shape)), tf.int32)
    else:
        images = tf.constant(rng.normal(size=(batch_size(), *shape)), tf.float32)
        labels = tf.constant(rng.integers(0, 10, batch_size()), tf.int32)
    which = ("supernet", "child") if _MODEL.value == "both" else (_MODEL.value,)
    models, arc, tokens, build_s = build_models(rng, shape, which)
    names = [name for name in ("supernet", "child") if name in models]
    steps = [
        make_step(models[name], make_optimizer(), supernet=name == "supernet") for name in names
    ]
    firsts = [first_step(step, images, labels, tokens) for step in steps]
    times = dict(zip(names, time_steps(steps, images, labels, tokens), strict=True))
    timings = {
        name: (first, statistics.median(times[name]))
        for name, first in zip(names, firsts, strict=True)
    }

    params = " / ".join(f"{models[name].count_params()} {name}" for name in models)
    print(
        f"{config.space} search model {config.search.model.to_dict()}, batch {batch_size()} x "
        f"{shape}, jit_compile={_JIT.value}, graph optimizer {'on' if graph_optimizer else 'off'}"
        f", {params} params"
    )
    print(f"arc: {registry.describe_arc(arc)}")
    print("| model | build s | first step (trace+run) s | ms/step (median) |")
    print("|---|---|---|---|")
    if "supernet" in timings:
        first, ms = timings["supernet"]
        print(f"| supernet (switch_case) | {build_s:.1f} | {first:.1f} | {ms:.1f} |")
    if "child" in timings:
        first, ms = timings["child"]
        print(f"| fixed child | - | {first:.1f} | {ms:.1f} |")
    if len(timings) == 2:
        ratios = [a / b for a, b in zip(times["supernet"], times["child"], strict=True)]
        print(
            f"supernet / fixed: {statistics.median(ratios):.2f}x (median of {len(ratios)} "
            f"pairs of steps taken in turn; range {min(ratios):.2f}-{max(ratios):.2f})"
        )
    else:  # ru_maxrss is in KiB on Linux
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak resident memory of this process ({_MODEL.value} only): {peak_mib:.0f} MiB")
    if "supernet" in timings:
        super_step = steps[0]
        arcs = [
            tf.constant(
                registry.of(config).supernet_tokens(registry.of(config).sample_random_arc(rng)),
                tf.int32,
            )
            for _ in range(_ARCS.value)
        ]
        for arc_tokens in arcs:
            super_step(images, labels, arc_tokens)
        traces = super_step.experimental_get_tracing_count()
        print(
            f"supernet traces after {_ARCS.value} different arcs (+{_STEPS.value + 1} steps): "
            f"{traces}"
        )


if __name__ == "__main__":
    app.run(main)
