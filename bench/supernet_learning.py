"""How fast does the shared supernet learn under different arc-sampling schemes?

Trains the supernet of the quickstart's search model (no controller) with a fresh arc per step
drawn by `--arcs` and prints, per epoch, the training loss and accuracy and (with
`--valid_arcs`) the validation accuracy of freshly sampled random arcs. This isolates the cost
of weight sharing from the controller: `fixed` trains one arc through the routed supernet (it
should learn like the fixed child), `random` is what the search does while the controller is
still near uniform.

With `--eval_arcs=N` it then scores N uniformly random arcs with the trained shared weights on
the whole validation split and prints their mean, sd, min and max, next to the noise of scoring
one arc on one minibatch of `--eval_batch` images (the sd over the split's minibatches, which is
what a controller reward sees). If the spread across arcs is not much larger than that noise,
the controller has nothing to learn from. It also scores "one op everywhere" arcs (every node
of both cells uses the same op, inputs as in a random arc) to show which ops the task rewards.

Usage:
    python bench/supernet_learning.py --arcs=fixed
    python bench/supernet_learning.py --arcs=random --epochs=12
    python bench/supernet_learning.py --arcs=random --schedule=quickstart --valid_arcs=5 \
        --eval_arcs=30
    python bench/supernet_learning.py --arcs=random --source=/tmp/cifar/cifar-10-batches-py

--arcs: fixed (one arc) | two (two arcs at random) | random (uniform) | random_ops (the fixed
arc's inputs, random ops) | random_inputs (the fixed arc's ops, random inputs).
--ops restricts the random ops, e.g. --ops=0,1 for the two separable convolutions.
--schedule: constant (`--lr` throughout) | quickstart (the quickstart search's cosine warm
restarts, lr 0.05 -> 0.0005, T0 = 2 epochs, Tmul = 2).

Not a test; results are in BUILD_NOTES.md (gap 1) and enas_tf/data/embedded.py. Results vary
with --seed (weights, arcs, data order): compare schemes over several seeds. On one core of a
shared machine: `taskset -c 1 python bench/supernet_learning.py ...`; ~3-4 min for 6 epochs.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from configs import quickstart  # noqa: E402
from enas_tf import training  # noqa: E402
from enas_tf.data import images as image_data  # noqa: E402
from enas_tf.models.micro import MicroSupernet  # noqa: E402
from enas_tf.spaces import micro  # noqa: E402

_ARCS = flags.DEFINE_enum(
    "arcs", "random", ["fixed", "two", "random", "random_ops", "random_inputs"], "arc sampling"
)
_OPS = flags.DEFINE_string("ops", "", "comma-separated op ids random ops are drawn from")
_SOURCE = flags.DEFINE_string("source", "embedded", "'embedded' or a cifar-10-batches-py path")
_MAX_TRAIN = flags.DEFINE_integer("max_train", 3500, "CIFAR only: images used (500 are valid)")
_EPOCHS = flags.DEFINE_integer("epochs", 6, "passes over the training split")
_FILTERS = flags.DEFINE_integer("filters", 8, "base filters (quickstart search: 8)")
_LR = flags.DEFINE_float("lr", 0.05, "Nesterov SGD learning rate of --schedule=constant")
_SCHEDULE = flags.DEFINE_enum(
    "schedule", "constant", ["constant", "quickstart"], "learning-rate schedule"
)
_SEED = flags.DEFINE_integer("seed", 0, "seed of the weights, arcs and data order")
_DATA_SEED = flags.DEFINE_integer("data_seed", -1, "embedded only: dataset seed (-1: config's)")
_VALID_ARCS = flags.DEFINE_integer(
    "valid_arcs", 0, "per epoch: score this many random arcs on the validation split"
)
_EVAL_ARCS = flags.DEFINE_integer(
    "eval_arcs", 0, "after training: score this many random arcs on the validation split"
)
_EVAL_BATCH = flags.DEFINE_integer("eval_batch", 100, "validation minibatch (controller: 100)")


def arc_sampler(num_nodes: int, rng: np.random.Generator):
    """Returns (the fixed arc's tokens, a function giving the tokens of the next step's arc)."""
    fixed = micro.sample_random_arc(num_nodes, np.random.default_rng(123)).to_tokens()
    other = micro.sample_random_arc(num_nodes, np.random.default_rng(7)).to_tokens()
    ops = [int(o) for o in _OPS.value.split(",")] if _OPS.value else None
    print(f"fixed arc: {fixed}")

    def sample():
        mode = _ARCS.value
        if mode == "fixed":
            tokens = fixed
        elif mode == "two":
            tokens = fixed if rng.random() < 0.5 else other
        else:
            tokens = micro.sample_random_arc(num_nodes, rng).to_tokens()
            if ops:  # odd positions are op ids
                tokens = [t if i % 2 == 0 else int(rng.choice(ops)) for i, t in enumerate(tokens)]
            if mode == "random_ops":  # keep the fixed arc's inputs (even positions)
                tokens = [fixed[i] if i % 2 == 0 else t for i, t in enumerate(tokens)]
            elif mode == "random_inputs":  # keep the fixed arc's ops (odd positions)
                tokens = [fixed[i] if i % 2 == 1 else t for i, t in enumerate(tokens)]
        return tf.constant(tokens, tf.int32)

    return fixed, sample


def op_summary(tokens) -> str:
    """Counts of each op over both cells, e.g. 'sep3 4 sep5 2 avg 3 max 2 id 1'."""
    short = ("sep3", "sep5", "avg", "max", "id")
    counts = np.bincount(np.asarray(tokens)[1::2], minlength=len(short))
    return " ".join(f"{name} {c:2d}" for name, c in zip(short, counts, strict=True))


def main(argv):
    del argv
    keras.utils.set_random_seed(_SEED.value)  # weights, dropout: runs are repeatable per seed
    config = quickstart.get_config()
    with config.unlocked():
        if _SOURCE.value != "embedded":
            config.data.source = _SOURCE.value
            config.data.max_train_examples = _MAX_TRAIN.value
        elif _DATA_SEED.value >= 0:
            config.data.embedded.seed = _DATA_SEED.value
    model_config, batch = config.search.model, config.search.batch_size
    start = time.time()
    splits = image_data.load_image_splits(config.data)
    print(f"data: {time.time() - start:.1f} s", flush=True)
    dataset = image_data.make_train_dataset(
        splits.train_images,
        splits.train_labels,
        batch_size=batch,
        mean=splits.channel_mean,
        std=splits.channel_std,
        seed=_SEED.value,
    )
    valid = list(
        image_data.make_eval_dataset(
            splits.valid_images,
            splits.valid_labels,
            batch_size=_EVAL_BATCH.value,
            mean=splits.channel_mean,
            std=splits.channel_std,
        )
    )
    steps_per_epoch = len(splits.train_labels) // batch
    supernet = MicroSupernet(
        num_classes=splits.num_classes,
        num_layers=model_config.num_layers,
        filters=_FILTERS.value,
        num_nodes=model_config.num_nodes,
        keep_prob=model_config.keep_prob,
        use_aux_head=False,
    )
    supernet.materialize(splits.train_images.shape[1:])
    variables = supernet.trainable_variables
    optim_config = config.search.optimizer
    if _SCHEDULE.value == "quickstart":
        optimizer = training.make_child_optimizer(optim_config, steps_per_epoch)
    else:
        optimizer = keras.optimizers.SGD(_LR.value, momentum=0.9, nesterov=True)
    optimizer.build(variables)

    @tf.function
    def step(images, labels, tokens):
        with tf.GradientTape() as tape:
            logits, _ = supernet(images, tokens, training=True)
            loss = training.classification_loss(
                logits, None, labels, aux_weight=0.0, global_batch_size=batch
            )
            total = loss + optim_config.l2 * training.l2_penalty(variables)
        grads = tape.gradient(total, variables)
        training.apply_clipped_gradients(optimizer, grads, variables, optim_config.grad_clip)
        return loss, training.accuracy_count(logits, labels)

    @tf.function
    def eval_step(images, tokens):
        logits, _ = supernet(images, tokens, training=False)
        return tf.argmax(logits, axis=-1, output_type=tf.int32)

    per_class = np.zeros([2, splits.num_classes])  # right, seen: every arc scored so far

    def minibatch_scores(tokens) -> np.ndarray:
        """Accuracy of one arc on each validation minibatch (and adds to `per_class`)."""
        tokens = tf.constant(tokens, tf.int32)
        scores = []
        for x, y in valid:
            right = eval_step(x, tokens).numpy() == y.numpy()
            np.add.at(per_class[0], y.numpy(), right)
            np.add.at(per_class[1], y.numpy(), 1)
            scores.append(right.mean())
        return np.array(scores)

    fixed, next_arc = arc_sampler(model_config.num_nodes, np.random.default_rng(_SEED.value))
    eval_rng = np.random.default_rng(10_000 + _SEED.value)  # arcs scored, not trained

    def random_tokens():
        return micro.sample_random_arc(model_config.num_nodes, eval_rng).to_tokens()

    iterator = iter(dataset)
    print("epoch  step  loss   train_acc  valid_acc(random arcs)  time")
    for epoch in range(_EPOCHS.value):
        loss_sum = correct = 0.0
        for _ in range(steps_per_epoch):
            images, labels = next(iterator)
            loss, right = step(images, labels, next_arc())
            loss_sum, correct = loss_sum + float(loss), correct + float(right)
        valid_text = "-"
        if _VALID_ARCS.value:
            scores = [minibatch_scores(random_tokens()).mean() for _ in range(_VALID_ARCS.value)]
            valid_text = f"{np.mean(scores):.3f} [{min(scores):.3f}, {max(scores):.3f}]"
        print(
            f"{epoch + 1:5d} {(epoch + 1) * steps_per_epoch:5d}  "
            f"{loss_sum / steps_per_epoch:.3f}  {correct / (steps_per_epoch * batch):.3f}"
            f"      {valid_text:22s}  {time.time() - start:.0f} s",
            flush=True,
        )
    if _EVAL_ARCS.value:
        per_class[:] = 0
        evaluate_arcs(minibatch_scores, random_tokens, fixed)
        print("\n  per class, over every arc scored above:")
        for name, right, seen in zip(splits.class_names, *per_class, strict=True):
            print(f"  {name:20s} {right / seen:.3f}")


def evaluate_arcs(minibatch_scores, random_tokens, fixed) -> None:
    """Prints the spread of random arcs' validation accuracy against the minibatch noise."""
    rows = []
    for _ in range(_EVAL_ARCS.value):
        tokens = random_tokens()
        rows.append((tokens, minibatch_scores(tokens)))
    means = np.array([scores.mean() for _, scores in rows])
    # Noise of one arc scored on one minibatch: sd over the split's minibatches, per arc.
    noise = np.array([scores.std(ddof=1) for _, scores in rows])
    num_batches = len(rows[0][1])
    print(
        f"\n{len(rows)} random arcs on {num_batches} x {_EVAL_BATCH.value} validation images:\n"
        f"  mean {means.mean():.3f}  sd {means.std(ddof=1):.3f}  min {means.min():.3f}  "
        f"max {means.max():.3f}\n"
        f"  one arc, one minibatch of {_EVAL_BATCH.value}: sd over {num_batches} minibatches "
        f"{noise.mean():.3f} (mean over arcs; first arc {noise[0]:.3f})"
    )
    print("\n  accuracy  ops over both cells")
    for tokens, scores in sorted(rows, key=lambda r: -r[1].mean()):
        print(f"  {scores.mean():.3f}     {op_summary(tokens)}")
    sep = np.array([np.isin(np.asarray(t)[1::2], (0, 1)).mean() for t, _ in rows])
    if sep.std() > 0:
        print(f"  correlation(accuracy, fraction of sep convs) {np.corrcoef(sep, means)[0, 1]:.2f}")
    print("\n  one op everywhere (random inputs, 5 arcs each): mean [min, max]")
    for op_id, name in enumerate(micro.OPS):
        scores = []
        for _ in range(5):
            tokens = random_tokens()
            tokens = [t if i % 2 == 0 else op_id for i, t in enumerate(tokens)]
            scores.append(minibatch_scores(tokens).mean())
        print(f"  {name:14s} {np.mean(scores):.3f} [{min(scores):.3f}, {max(scores):.3f}]")
    print(f"  fixed arc      {minibatch_scores(fixed).mean():.3f}  {op_summary(fixed)}")


if __name__ == "__main__":
    app.run(main)
