"""How much do the shared weights learn, and do they rank architectures like training does?

Diagnoses the weight-sharing chain of a search (issue #24, BUILD_NOTES "Weight sharing") for any
config of any space (images: accuracy; the rnn space's language model: perplexity), on its own
data:

(a) sharing efficiency: K probe arcs (uniformly random, seeded) are scored on the whole
    validation split with the shared weights at several points of supernet training, and the
    same K arcs are trained alone at the search's size, optimizer, batch and data order for the
    same number of steps. Efficiency = (shared - chance) / (alone - chance), over the probe
    arcs' mean accuracies.
(b) score reliability: each arc's sd across validation minibatches (the noise of one reward)
    against the sd between arcs' whole-split scores (the signal).
(c) rank agreement: Kendall tau and Spearman rho between the shared-weight and the stand-alone
    scores of the probe arcs; with `--alone_seeds=2` also between two stand-alone seeds (the
    ceiling the stand-alone noise allows).

The supernet is trained by the search's own child step settings (`config.search`, so every
lever is a `--config.search...` override) with arcs drawn by `--sampling`: `uniform` (the
search's warm-up, or `search.policy=random`) or `fixed` (probe arc 0 only: if the supernet then
learns like the fixed child, the supernet is sound and any gap comes from sharing).

Usage:
    python bench/weight_sharing.py --config=configs/quickstart.py --probe_arcs=8
    python bench/weight_sharing.py --config=configs/quickstart.py --sampling=fixed --probe_arcs=1
    python bench/weight_sharing.py --config=configs/cifar10_micro.py:runlocal \
        --config.data.source=/tmp/cifar/cifar-10-batches-py --steps=600 --points=150,300,600
    python bench/weight_sharing.py --config=configs/ptb_rnn.py:runlocal \
        --config.data.source=/path/to/ptb --probe_arcs=16 --alone_seeds=2
    # Two stand-alone seeds side by side (one core each), pooled, then a lever's shared side
    # against them, and searches' derived arcs trained alone at the same budget:
    python bench/weight_sharing.py ... --alone_first_seed=0 --out=a.json &
    python bench/weight_sharing.py ... --alone_first_seed=1 --out=b.json &
    python bench/weight_sharing.py ... --config.search.model.sep_weights=per_cell \
        --alone_from=a.json,b.json
    python bench/weight_sharing.py ... --arcs_from=W0/arc.json,W1/arc.json --noshared \
        --alone_seeds=2 --out=derived.json

A language model's score is the mean over validation windows of each window's perplexity from
a zero state (what the search's reward reads); its carried training state restarts every epoch,
as in the search.

Prints one table row per point and writes `--out` (JSON) with every score. Not a test.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from enas_tf import training  # noqa: E402
from enas_tf.data import text as text_data  # noqa: E402
from enas_tf.policy.random_policy import UniformPolicy  # noqa: E402
from enas_tf.search import ranking  # noqa: E402
from enas_tf.spaces import arc_io, registry  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file("config", "configs/quickstart.py", "run config")
_PROBE_ARCS = flags.DEFINE_integer("probe_arcs", 8, "uniformly random arcs scored and trained")
_STEPS = flags.DEFINE_integer("steps", 0, "child steps (0: the search's epochs x steps/epoch)")
_POINTS = flags.DEFINE_list("points", [], "child steps to measure at (default: every epoch)")
_SAMPLING = flags.DEFINE_enum(
    "sampling", "uniform", ["uniform", "fixed", "probes"], "supernet's arcs (probes: one of them)"
)
_ARC_EVERY = flags.DEFINE_integer("arc_every", 1, "a new arc every this many steps")
_ALONE_SEEDS = flags.DEFINE_integer("alone_seeds", 1, "stand-alone trainings per probe arc")
_ALONE = flags.DEFINE_bool("alone", True, "train the probe arcs alone (False: shared only)")
_SEED = flags.DEFINE_integer("seed", 0, "seed of the weights and the supernet's arcs")
_PROBE_SEED = flags.DEFINE_integer("probe_seed", 1000, "seed of the probe arcs")
_OUT = flags.DEFINE_string("out", "", "JSON file for every score")
_PROBES_FROM = flags.DEFINE_list(
    "probes_from",
    [],
    "audit.json files: their arcs are the probes and their retrained valid scores the "
    "stand-alone side (at the audit's budget, the same at every point)",
)
_ARCS_FROM = flags.DEFINE_list(
    "arcs_from",
    [],
    "arc.json files (or published names) as the probe arcs, e.g. searches' derived arcs, to "
    "train alone at the same budget as an earlier run's random probes",
)
_SHARED = flags.DEFINE_bool(
    "shared", True, "train the supernet (False: the stand-alone side only, no report)"
)
_VALID_BATCHES = flags.DEFINE_integer(
    "valid_batches", 0, "score on this many validation minibatches (0: the whole split)"
)
_ALONE_FROM = flags.DEFINE_list(
    "alone_from",
    [],
    "reuse the stand-alone scores of earlier --out files (same probes and points); the seeds "
    "of several files are pooled",
)
_ALONE_FIRST_SEED = flags.DEFINE_integer(
    "alone_first_seed",
    0,
    "index of the first stand-alone seed: two processes with --alone_seeds=1 and first seeds "
    "0 and 1 train the two seeds side by side (pool them with --alone_from)",
)
_SHARED_FROM = flags.DEFINE_string(
    "shared_from", "", "reuse the shared-weight scores of an earlier --out instead of training"
)


def probe_tokens(config, count: int, seed: int) -> list[list[int]]:
    """`count` uniformly random arcs of the configured space, as supernet tokens."""
    space = registry.of(config)
    rng = np.random.default_rng(seed)
    return [space.supernet_tokens(space.sample_random_arc(rng)) for _ in range(count)]


def probes_from_audits(config, paths: list[str]) -> tuple[list[list[int]], list[float]]:
    """The arcs of earlier audits and their retrained valid scores, duplicates averaged.

    An audit retrained each arc alone at a short budget: what a supernet setting's ranking
    should agree with (tau), whatever its own training length. Returns (probe tokens,
    retrained valid score of each probe).
    """
    space = registry.of(config)
    merged: dict[tuple, list[float]] = {}
    for path in paths:
        with open(path) as f:
            audit = json.load(f)
        for entry in audit["arcs"]:
            if entry.get("valid_score") is None:
                continue  # a diverged retrain scores nothing to agree with
            tokens = space.supernet_tokens(arc_io.arc_from_json(entry["arc"]))
            # One network, whatever its encoding.
            merged.setdefault(space.canonical_key(tokens), []).append(entry["valid_score"])
    return [list(k) for k in merged], [float(np.mean(v)) for v in merged.values()]


def is_language_model(task) -> bool:
    """The rnn space's task scores perplexity and carries a hidden state between steps."""
    return task.metric == "perplexity"


def valid_batches(task) -> list:
    """The validation split (or `--valid_batches` of it, the same ones for every arc and
    point) as a list of minibatches (windows) of the search's size."""
    search = task.config.search
    if is_language_model(task):
        count = text_data.num_windows(len(task.splits.valid), search.eval_batch_size, search.bptt)
    else:
        count = len(task.splits.valid_labels) // search.eval_batch_size
    if _VALID_BATCHES.value:
        count = min(count, _VALID_BATCHES.value)
    return list(task.valid_dataset(shuffle_seed=0).take(count))


def epoch_batches(task, total_steps: int):
    """(batch, first of its epoch) of the search's training data, for `total_steps` steps."""
    epoch, served = 0, 0
    while served < total_steps:
        for position, batch in enumerate(task.train_dataset(epoch, 0)):
            yield batch, position == 0
            served += 1
            if served == total_steps:
                return
        epoch += 1


def train_shared(task, probes, points, sampling: str, seed: int) -> dict[int, np.ndarray]:
    """Trains the supernet; returns {point: [probe, minibatch] shared-weight scores}."""
    config = task.config
    keras.utils.set_random_seed(seed)
    supernet = task.build_supernet()
    optimizer = task.make_child_optimizer()
    variables = supernet.trainable_variables
    optimizer.build(variables)
    search = config.search
    uniform = UniformPolicy(registry.of(config).decision_program())
    task.create_child_state(tf.distribute.get_strategy())  # a language model's carried state

    @tf.function(reduce_retracing=True)
    def step(batch, step_seed, fixed_tokens, use_fixed):
        tokens = tf.where(use_fixed, fixed_tokens, uniform.sample(step_seed))
        with tf.GradientTape() as tape:
            loss, decayed, _ = task.child_loss(supernet, batch, tokens, search.batch_size)
            total = loss + search.optimizer.l2 * training.l2_penalty(decayed)
        grads = tape.gradient(total, variables)
        training.apply_clipped_gradients(optimizer, grads, variables, search.optimizer.grad_clip)
        return loss

    score = tf.function(lambda batch, tokens: task.score(supernet, batch, tokens))
    batches = valid_batches(task)
    use_fixed = tf.constant(sampling != "uniform")
    rng = np.random.default_rng(seed)
    fixed = tf.constant(probes[0], tf.int32)
    results, started, losses = {}, time.time(), []
    for index, (batch, epoch_start) in enumerate(epoch_batches(task, max(points)), start=1):
        if epoch_start:
            task.reset_child_state()
        step_seed = tf.constant([seed, (index - 1) // _ARC_EVERY.value], tf.int32)
        if sampling == "probes" and (index - 1) % _ARC_EVERY.value == 0:
            fixed = tf.constant(probes[rng.integers(len(probes))], tf.int32)
        losses.append(float(step(batch, step_seed, fixed, use_fixed)))
        if index in points:
            results[index] = np.array(
                [[float(score(b, tf.constant(p, tf.int32))) for b in batches] for p in probes]
            )
            per_arc = " ".join(f"{v:.4g}" for v in results[index].mean(axis=1))
            print(
                f"  shared step {index}: loss {np.mean(losses[-50:]):.3f}, probe arcs "
                f"{results[index].mean():.4g} [{per_arc}] ({time.time() - started:.0f} s)",
                flush=True,
            )
    return results


def train_alone(task, tokens, points, seed: int) -> dict[int, float]:
    """Trains one arc's fixed child at the search's size; {point: whole-split score}.

    The score is the shared side's, from the same minibatches: accuracy, or the mean of the
    windows' perplexities from a zero state.
    """
    config = task.config
    space = registry.of(config)
    keras.utils.set_random_seed(seed)
    if is_language_model(task):
        data = {"vocab_size": task.splits.vocab_size}
    else:
        data = {
            "drop_path_keep_prob": 1.0,
            "num_classes": task.splits.num_classes,
            "image_shape": task.image_shape,
        }
    child = space.build_child(
        space.arc_from_tokens(tokens), model_config=config.search.model, **data
    )
    optimizer = task.make_child_optimizer()
    variables = child.trainable_variables
    optimizer.build(variables)
    step, score, reset = (_lm_functions if is_language_model(task) else _image_functions)(
        child, config.search
    )

    def train(batch):
        with tf.GradientTape() as tape:
            loss, decayed = step(batch)
            total = loss + config.search.optimizer.l2 * training.l2_penalty(decayed)
        grads = tape.gradient(total, variables)
        training.apply_clipped_gradients(
            optimizer, grads, variables, config.search.optimizer.grad_clip
        )

    train = tf.function(train)
    score = tf.function(score)
    batches = valid_batches(task)
    results = {}
    for index, (batch, epoch_start) in enumerate(epoch_batches(task, max(points)), start=1):
        if epoch_start:
            reset()
        train(batch)
        if index in points:
            results[index] = float(np.mean([float(score(b)) for b in batches]))
    return results


def _image_functions(child, search):
    """(loss of a batch, its score on a validation batch, reset) of an image child."""

    def loss(batch):
        images, labels = batch
        logits, aux = child(images, training=True)
        value = training.classification_loss(
            logits, aux, labels, aux_weight=search.aux_weight, global_batch_size=search.batch_size
        )
        return value, child.trainable_variables

    def score(batch):
        images, labels = batch
        logits, _ = child(images, training=False)
        return training.accuracy_count(logits, labels) / tf.cast(tf.shape(labels)[0], tf.float32)

    return loss, score, lambda: None


def _lm_functions(child, search):
    """The same for a language model: state carried between training windows, as the search
    carries it; each validation window scored from a zero state, as the search's reward."""
    hidden = search.model.hidden_size
    state = tf.Variable(tf.zeros([search.batch_size, hidden]), trainable=False)

    def mean_xent(targets, logits):
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
        )

    def loss(batch):
        inputs, targets = batch
        logits, next_state = child(inputs, state.read_value(), training=True)
        state.assign(tf.stop_gradient(next_state))
        return mean_xent(targets, logits), child.cell.trainable_variables

    def score(batch):
        inputs, targets = batch
        zeros = tf.zeros([tf.shape(inputs)[0], hidden])
        logits, _ = child(inputs, zeros, training=False)
        return tf.exp(mean_xent(targets, logits))

    return loss, score, lambda: state.assign(tf.zeros_like(state))


def main(argv):
    del argv
    config = _CONFIG.value
    task = registry.of(config).task_class().load(config)
    steps_per_epoch = task.steps_per_epoch
    total = _STEPS.value or config.search.epochs * steps_per_epoch
    points = sorted(
        {int(p) for p in _POINTS.value} or set(range(steps_per_epoch, total + 1, steps_per_epoch))
    )
    retrained = []
    if _PROBES_FROM.value:
        probes, retrained = probes_from_audits(config, _PROBES_FROM.value)
    elif _ARCS_FROM.value:
        space = registry.of(config)
        probes = [space.supernet_tokens(arc_io.load_arc(path)) for path in _ARCS_FROM.value]
    else:
        probes = probe_tokens(config, _PROBE_ARCS.value, _PROBE_SEED.value)
    print(f"{task.description}; {len(probes)} probe arcs, points {points}", flush=True)
    if _SHARED_FROM.value:
        shared = {
            int(p): np.array(v)
            for p, v in load_scores(_SHARED_FROM.value, probes)["shared"].items()
        }
    elif _SHARED.value:
        shared = train_shared(task, probes, points, _SAMPLING.value, _SEED.value)
    else:
        shared = {}
    alone = []
    if _OUT.value:  # the shared side first: a later failure keeps it
        write_scores(_OUT.value, probes, shared, alone, points, [])
    if retrained:
        print("  stand-alone side: the audits' retrained valid scores (their own budget)")
        alone = [[{p: score for p in points} for score in retrained]]
    elif _ALONE_FROM.value:
        for path in _ALONE_FROM.value:
            alone += [
                [{int(p): v for p, v in arc.items()} for arc in seed]
                for seed in load_scores(path, probes)["alone"]
            ]
    elif _ALONE.value:
        first = _ALONE_FIRST_SEED.value
        for s in range(first, first + _ALONE_SEEDS.value):
            per_arc = []
            for i, tokens in enumerate(probes):
                started = time.time()
                per_arc.append(train_alone(task, tokens, points, _SEED.value + 100 * s))
                print(
                    f"  alone seed {s} arc {i}: {[float(f'{per_arc[-1][p]:.4g}') for p in points]} "
                    f"({time.time() - started:.0f} s)",
                    flush=True,
                )
            alone.append(per_arc)
    if not shared:
        if _OUT.value:
            write_scores(_OUT.value, probes, shared, alone, points, [])
        return
    report = ranking.sharing_report(
        shared, alone, points, chance=task.chance_score, higher_is_better=task.higher_is_better
    )
    print(ranking.format_sharing_report(report))
    if _OUT.value:
        write_scores(_OUT.value, probes, shared, alone, points, report)


def load_scores(path: str, probes) -> dict:
    """An earlier --out, refused when its probe arcs are not this run's."""
    with open(path) as f:
        earlier = json.load(f)
    if earlier["probes"] != probes:
        raise SystemExit(f"{path}: other probe arcs than this run's (same --probe_arcs/seed?)")
    return earlier


def write_scores(path, probes, shared, alone, points, report) -> None:
    """Every score of the run as JSON (the stand-alone ones reusable by --alone_from)."""
    with open(path, "w") as f:
        json.dump(
            {
                "probes": probes,
                "shared": {p: v.tolist() for p, v in shared.items()},
                "alone": [[{p: a[p] for p in points} for a in per_seed] for per_seed in alone],
                "report": report,
            },
            f,
            indent=1,
        )


if __name__ == "__main__":
    app.run(main)
