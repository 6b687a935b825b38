"""How fast does the shared supernet learn under different arc-sampling schemes?

Trains the supernet of the quickstart's search model (no controller) with a fresh arc per step
drawn by `--arcs` and prints the training loss and accuracy of every epoch. This isolates the
cost of weight sharing from the controller: `fixed` trains one arc through the routed
supernet (it should learn like the fixed child), `random` is what the search does while the
controller is still near uniform.

Usage:
    python bench/supernet_learning.py --arcs=fixed
    python bench/supernet_learning.py --arcs=random --epochs=12
    python bench/supernet_learning.py --arcs=random --source=/tmp/cifar/cifar-10-batches-py

--arcs: fixed (one arc) | two (two arcs at random) | random (uniform) | random_ops (the fixed
arc's inputs, random ops) | random_inputs (the fixed arc's ops, random inputs).
--ops restricts the random ops, e.g. --ops=0,1 for the two separable convolutions.

Not a test; results are in BUILD_NOTES.md (gap 1). Results vary a lot with --seed on the
embedded task (how long a run sits on its initial plateau): compare schemes over several seeds.
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
_LR = flags.DEFINE_float("lr", 0.05, "constant Nesterov SGD learning rate")
_SEED = flags.DEFINE_integer("seed", 0, "seed of the weights, arcs and data order")


def arc_sampler(num_nodes: int, rng: np.random.Generator):
    """Returns a function giving the int32 tokens of the next step's arc."""
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

    return sample


def main(argv):
    del argv
    keras.utils.set_random_seed(_SEED.value)  # weights, dropout: runs are repeatable per seed
    config = quickstart.get_config()
    with config.unlocked():
        if _SOURCE.value != "embedded":
            config.data.source = _SOURCE.value
            config.data.max_train_examples = _MAX_TRAIN.value
    model_config, batch = config.search.model, config.search.batch_size
    splits = image_data.load_image_splits(config.data)
    dataset = image_data.make_train_dataset(
        splits.train_images,
        splits.train_labels,
        batch_size=batch,
        mean=splits.channel_mean,
        std=splits.channel_std,
        seed=_SEED.value,
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
    optimizer = keras.optimizers.SGD(_LR.value, momentum=0.9, nesterov=True)
    optimizer.build(variables)
    optim_config = config.search.optimizer

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

    next_arc = arc_sampler(model_config.num_nodes, np.random.default_rng(_SEED.value))
    iterator = iter(dataset)
    start = time.time()
    for epoch in range(_EPOCHS.value):
        loss_sum = correct = 0.0
        for _ in range(steps_per_epoch):
            images, labels = next(iterator)
            loss, right = step(images, labels, next_arc())
            loss_sum, correct = loss_sum + float(loss), correct + float(right)
        print(
            f"epoch {epoch + 1}: loss {loss_sum / steps_per_epoch:.3f} "
            f"train accuracy {correct / (steps_per_epoch * batch):.3f} "
            f"({time.time() - start:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    app.run(main)
