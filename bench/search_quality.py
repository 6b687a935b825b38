"""ENAS against random architectures at equal budget: does the derived arc beat chance picks?

For one config: run the search and derive (or reuse a finished search in --workdir), draw R
uniformly random arcs from the same space, retrain the derived arc and every random arc with
the same retrain budget and seed, and print

    the derived arc's retrained test score, the random arcs' mean +- sd and best, the derived
    arc's rank among all, and Kendall's tau between the shared-weight scores (each arc scored
    by the trained supernet on the same --score_batches validation minibatches) and the
    retrained scores over all arcs;

and save `search_quality.png` (shared-weight score against retrained score) and
`search_quality.json` in --workdir. Accuracy for image spaces, perplexity for rnn (lower is
better; the rank counts from the best).

Usage (any --config.KEY=VALUE override works, as in enas_tf.train):
    python bench/search_quality.py --config=configs/cifar10_micro.py:runlocal \
        --config.data.source=/path/to/cifar-10-batches-py --workdir=/tmp/sq_micro
    python bench/search_quality.py --config=configs/ptb_rnn.py:runlocal \
        --config.data.source=/path/to/ptb --workdir=/tmp/sq_ptb --random_arcs=8

Each arc is retrained in --workdir/arcs/<name>/ (a rerun reuses finished retrains). Results
are in BUILD_NOTES.md.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from enas_tf import pipeline
from enas_tf.runtime import files  # noqa: E402
from enas_tf.search import check as search_check
from enas_tf.spaces import (
    arc_io,  # noqa: E402
    registry,  # noqa: E402
)
from enas_tf.tasks import load_task  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file("config", None, "Run config (as for enas_tf.train).")
flags.DEFINE_string("workdir", None, "Where the search, the retrains and the results go.")
flags.DEFINE_integer("random_arcs", 8, "Uniformly random arcs to retrain (R).")
flags.DEFINE_integer("score_batches", 5, "Validation minibatches for the shared-weight scores.")
flags.DEFINE_integer("arc_seed", 12345, "Seed of the random arcs.")
flags.mark_flags_as_required(["config", "workdir"])
FLAGS = flags.FLAGS


def kendall_tau(a, b) -> float:
    """Kendall's tau-b of two score lists (ties count as neither concordant nor discordant)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    concordant = discordant = ties_a = ties_b = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            da, db = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
            if da == 0 and db == 0:
                continue
            if da == 0:
                ties_a += 1
            elif db == 0:
                ties_b += 1
            elif da == db:
                concordant += 1
            else:
                discordant += 1
    n0 = concordant + discordant
    denominator = np.sqrt((n0 + ties_a) * (n0 + ties_b))
    return float((concordant - discordant) / denominator) if denominator else float("nan")


def _shared_weight_scores(config, workdir, arcs):
    """Scores every arc with the trained supernet on the same validation minibatches."""
    from enas_tf.search import Search

    task = load_task(config)
    strategy = tf.distribute.get_strategy()
    search = Search(config, workdir, strategy, task, jit_compile=False)
    if not search.restore():
        raise SystemExit(f"no search checkpoint in {workdir}")
    batches = search.check_batches(config.seed * 7919 + 104729, FLAGS.score_batches)
    space = registry.of(config)
    tokens = [tf.constant(space.supernet_tokens(arc), tf.int32) for arc in arcs]
    return list(search_check.score_arcs(search.steps.evaluate_arc, batches, tokens).scores)


def _retrain(config, workdir, name, arc):
    """Retrains `arc` alone in workdir/arcs/name (reused when finished); its result dict."""
    directory = os.path.join(workdir, "arcs", name)
    result_path = os.path.join(directory, "retrain", "result.json")
    if os.path.exists(result_path):
        return files.read_json(result_path)
    os.makedirs(directory, exist_ok=True)
    arc_path = os.path.join(directory, "arc_to_retrain.json")
    arc_io.save_arc(arc, arc_path)
    arc_config = config.copy_and_resolve_references()
    arc_config.unlock()
    arc_config.arc = arc_path
    arc_config.lock()
    pipeline.run(arc_config, directory, mode="retrain")
    return files.read_json(result_path)


def _plot(path, shared, retrained, derived_index, metric):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 4), dpi=120)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.scatter(shared, retrained, c="tab:blue", label="random arcs")
    ax.scatter(
        [shared[derived_index]], [retrained[derived_index]], c="tab:red", s=80, label="derived"
    )
    ax.set_xlabel(f"shared-weight valid {metric}")
    ax.set_ylabel(f"retrained test {metric}")
    ax.set_title(f"Kendall tau {kendall_tau(shared, retrained):.2f}")
    ax.legend()
    figure.tight_layout()
    figure.savefig(path)


def main(argv):
    del argv
    config, workdir = _CONFIG.value, FLAGS.workdir
    if not os.path.exists(os.path.join(workdir, "arc.json")):
        pipeline.run(config, workdir, mode="search")
        pipeline.run(config, workdir, mode="derive")
    derived = arc_io.load_arc(os.path.join(workdir, "arc.json"))
    rng = np.random.default_rng(FLAGS.arc_seed)
    arcs = {"derived": derived}
    for i in range(FLAGS.random_arcs):
        arcs[f"random_{i}"] = registry.of(config).sample_random_arc(rng)
    names = list(arcs)
    shared = _shared_weight_scores(config, workdir, [arcs[n] for n in names])
    metric = "perplexity" if config.space == "rnn" else "accuracy"
    results = {n: _retrain(config, workdir, n, arcs[n]) for n in names}
    retrained = [float(results[n][f"test_{metric}"]) for n in names]
    # A retrain that diverged (a non-finite score) ranks last and is left out of the random
    # arcs' mean, sd and best and out of Kendall's tau; the table counts such arcs.
    finite = [i for i, r in enumerate(retrained) if np.isfinite(r)]
    sign = -1.0 if metric == "perplexity" else 1.0  # sort best first
    order = sorted(finite, key=lambda i: -sign * retrained[i])
    order += [i for i in range(len(names)) if i not in finite]
    rank = order.index(0) + 1
    random_scores = np.asarray([retrained[i] for i in finite if i > 0])
    diverged = len(names) - len(finite)
    tau = kendall_tau([shared[i] for i in finite], [retrained[i] for i in finite])
    best_random = random_scores.max() if sign > 0 else random_scores.min()
    table = [
        f"| arcs | derived test {metric} | random mean +- sd | best random | derived rank | "
        "Kendall tau (shared vs retrained) |",
        "|---|---|---|---|---|---|",
        f"| 1 derived + {FLAGS.random_arcs} random"
        f"{f' ({diverged} diverged)' if diverged else ''} | {retrained[0]:.4g} | "
        f"{random_scores.mean():.4g} +- {random_scores.std(ddof=1):.2g} | {best_random:.4g} | "
        f"{rank} of {len(names)} | {tau:.2f} |",
    ]
    print("\nper arc (shared-weight valid score, retrained test score):")
    for n, s, r in zip(names, shared, retrained, strict=True):
        print(f"  {n:10s} {s:.4g} {r:.4g}")
    print("\n" + "\n".join(table))
    _plot(os.path.join(workdir, "search_quality.png"), shared, retrained, 0, metric)
    files.write_json_atomic(
        os.path.join(workdir, "search_quality.json"),
        {
            "metric": metric,
            "arcs": {
                n: {"shared_weight_score": s, "retrained": results[n]}
                for n, s in zip(names, shared, strict=True)
            },
            "derived_rank": rank,
            "diverged": diverged,
            "kendall_tau": tau,
            "table": table,
        },
    )
    logging.info("wrote %s", os.path.join(workdir, "search_quality.png"))
    print(json.dumps({"derived_rank": rank, "kendall_tau": tau}))


if __name__ == "__main__":
    app.run(main)
