"""Benchmark: seconds to construct each space's supernet and retrain-size child, variables made.

Construction is the first thing a search, a retraining and every test of a whole pipeline pays
(issue #27): the supernet materialised at the data's shapes, the child built by one call, both
with every variable created. Prints one row per model with the seconds (median of --repeats,
each in a fresh Keras session) and the number of variables.

Usage:
    python bench/model_build.py                 # micro and macro (CIFAR-10 shapes), rnn (PTB)
    python bench/model_build.py --repeats=5

Not a test: numbers depend on the machine. Record them in BUILD_NOTES.md with the command.
"""

from __future__ import annotations

import functools
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from configs import cifar10_macro, cifar10_micro, ptb_rnn  # noqa: E402
from enas_tf.spaces import registry  # noqa: E402

_REPEATS = flags.DEFINE_integer("repeats", 3, "constructions per model (median printed)")
_CONFIGS = {"micro": cifar10_micro, "macro": cifar10_macro, "rnn": ptb_rnn}


def _data(space_name: str) -> dict:
    if space_name == "rnn":
        return {"vocab_size": 10_000}
    return {"num_classes": 10, "image_shape": (32, 32, 3)}


def _timed(build):
    seconds, model = [], None
    for _ in range(_REPEATS.value):
        keras.backend.clear_session()
        started = time.perf_counter()
        model = build()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), len(model.variables)


def main(argv):
    del argv
    print("| model | build s (median) | variables |")
    print("|---|---|---|")
    for name, module in _CONFIGS.items():
        config = module.get_config()
        space = registry.of(config)
        arc = space.sample_random_arc(np.random.default_rng(0))
        data = _data(name)
        rows = (
            (f"{name} supernet (search size)", functools.partial(space.build_supernet, **data)),
            (f"{name} child (retrain size)", functools.partial(space.build_child, arc, **data)),
        )
        for label, build in rows:
            seconds, variables = _timed(build)
            print(f"| {label} | {seconds:.2f} | {variables} |")


if __name__ == "__main__":
    app.run(main)
