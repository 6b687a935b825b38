"""Benchmark: how long a search takes to start, split by stage, with the graph sizes behind it.

Builds the search of a config exactly as `python -m enas_tf.train` does (`enas_tf.search.Search`
on the config's data), then traces and calls once each of the two loop functions a search
starts with: the child phase (`train_child`) and the controller phase (`train_controller`).
Prints one table row per function: trace seconds, first-call seconds (graph optimisation,
executor set-up and one step), and the number of graph nodes (the function and its library
functions), which is what both times grow with.

Why: the test suite and every run pay this once per process; the multi-replica and XLA
proxies pay it several times (issue #12). Use it to compare code changes on one machine.

Usage (default: the tiny micro config, what most tests build):
    python bench/search_startup.py
    python bench/search_startup.py --config=configs/tiny.py:space=macro
    python bench/search_startup.py --config=configs/tiny.py:space=rnn
    python bench/search_startup.py --config=configs/cifar10_micro.py   # needs CIFAR-10 data

Not a test: numbers depend on the machine. Record them in BUILD_NOTES.md with the command.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf  # noqa: E402
from absl import app  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from enas_tf import search as search_lib  # noqa: E402
from enas_tf.data import images as image_data  # noqa: E402
from enas_tf.data import text as text_data  # noqa: E402
from enas_tf.runtime import strategy as strategy_lib  # noqa: E402
from enas_tf.tasks.image import ImageTask  # noqa: E402
from enas_tf.tasks.language_model import LmTask  # noqa: E402

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CONFIG = config_flags.DEFINE_config_file(
    "config", os.path.join(_REPO, "configs", "tiny.py"), "run config"
)


def graph_nodes(concrete_function) -> int:
    """Nodes of a traced function's graph plus those of every function in its library."""
    graph = concrete_function.graph.as_graph_def()
    return len(graph.node) + sum(len(f.node_def) for f in graph.library.function)


def main(argv):
    del argv
    config = _CONFIG.value
    strategy = tf.distribute.get_strategy()
    on = strategy_lib.configure_graph_optimizer(config.graph_optimizer, strategy)
    started = time.perf_counter()
    if config.space == "rnn":
        task = LmTask(config, text_data.load_text_splits(config.data))
    else:
        task = ImageTask(config, image_data.load_image_splits(config.data))
    workdir = tempfile.mkdtemp(prefix="search_startup_")
    search = search_lib.Search(config, workdir, strategy, task, False)
    build = time.perf_counter() - started
    search.task.reset_child_state()
    train_iterator = iter(search.train_dataset(epoch=0, skip=0).repeat())
    functions = [
        ("child phase (train_child)", search.steps.train_child, train_iterator),
        (
            "controller phase (train_controller)",
            search.steps.train_controller,
            search.valid_iterator(shuffle_seed=0),
        ),
    ]
    print(
        f"{config.space} search: build {build:.1f} s (data, models, optimizers), graph "
        f"optimizer {'on' if on else 'off'}"
    )
    print("| loop function, one step | trace s | first call s | graph nodes |")
    print("|---|---|---|---|")
    for name, function, iterator in functions:
        args = (iterator, tf.constant(1))
        started = time.perf_counter()
        concrete = function.get_concrete_function(*args)
        trace = time.perf_counter() - started
        started = time.perf_counter()
        float(function(*args)["loss"])  # waits for the step
        first_call = time.perf_counter() - started
        print(f"| {name} | {trace:.1f} | {first_call:.1f} | {graph_nodes(concrete):,} |")


if __name__ == "__main__":
    app.run(main)
