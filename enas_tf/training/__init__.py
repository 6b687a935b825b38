"""Pieces of child-network training shared by the search (supernet) and retraining (child).

Submodules: `fused_sgd` (Keras SGD with TensorFlow's fused momentum update) and `phase_loop`
(the eager outer loop every training phase runs through).

Kept free of any loop or strategy logic: the loss, the optimizer with its schedule, and the
clipped gradient application. Per-replica code: losses are averaged over the *global* batch so
that summing gradients across replicas gives the global mean.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from enas_tf.training.fused_sgd import FusedSGD


def make_lr_schedule(optim_config, steps_per_epoch: int):
    """Cosine decay with warm restarts (paper 3.2: lmax, lmin, T0, Tmul).

    Restart periods are counted in epochs (T0 = 10 epochs, doubling), converted to steps.
    """
    return keras.optimizers.schedules.CosineDecayRestarts(
        initial_learning_rate=optim_config.lr_max,
        first_decay_steps=max(1, int(optim_config.t0 * steps_per_epoch)),
        t_mul=float(optim_config.t_mul),
        m_mul=1.0,
        alpha=optim_config.lr_min / optim_config.lr_max if optim_config.lr_max else 0.0,
    )


def make_child_optimizer(optim_config, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Nesterov momentum 0.9 on the cosine warm-restart schedule (paper 3.2).

    `FusedSGD`: Keras' SGD with a one-op update per variable (a smaller step graph).
    """
    return FusedSGD(
        learning_rate=make_lr_schedule(optim_config, steps_per_epoch),
        momentum=optim_config.momentum,
        nesterov=True,
    )


def current_learning_rate(optimizer: keras.optimizers.Optimizer) -> float:
    """The learning rate the optimizer will use at its next step."""
    return float(optimizer.learning_rate)  # Keras 3 evaluates the schedule at `iterations`.


def last_step_learning_rate(optimizer: keras.optimizers.Optimizer) -> float:
    """The learning rate of the step the optimizer last took (for logs and summaries).

    Not the next step's: after the last step of a cosine cycle the schedule restarts, and
    a curve of the next step's rate ended with a spike back to `lr_max` at the run's last
    point (issue #26).
    """
    schedule = getattr(optimizer, "_learning_rate", None)  # Keras 3 keeps the schedule here
    if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return current_learning_rate(optimizer)
    taken = max(int(optimizer.iterations.numpy()) - 1, 0)
    return float(schedule(taken))


def l2_penalty(variables) -> tf.Tensor:
    """sum(w^2) over kernels (rank >= 2); norm scales and offsets are not decayed.

    `tf.nn.l2_loss` (sum(w^2) / 2, one op whose gradient is one multiply) rather than
    square-then-sum: a few graph ops fewer per kernel in every traced child step (issue #12).
    """
    kernels = [v for v in variables if len(v.shape) >= 2]
    if not kernels:
        return tf.constant(0.0)
    return 2.0 * tf.add_n([tf.nn.l2_loss(tf.cast(v, tf.float32)) for v in kernels])


def classification_loss(logits, aux_logits, labels, *, aux_weight: float, global_batch_size: int):
    """Cross-entropy (+ weighted auxiliary cross-entropy), averaged over the global batch."""
    xent = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    loss = tf.reduce_sum(xent) / global_batch_size
    if aux_logits is not None and aux_weight:
        aux = keras.losses.sparse_categorical_crossentropy(labels, aux_logits, from_logits=True)
        loss += aux_weight * tf.reduce_sum(aux) / global_batch_size
    return loss


def apply_clipped_gradients(optimizer, grads, variables, clip_norm: float):
    """Clips by global norm and applies the *clipped* gradients.

    The original CIFAR code computed clipped gradients and then applied the unclipped ones;
    tests check that the update here really is bounded. A step whose gradient norm is not
    finite applies a zero gradient. Called in a replica context with several replicas, it
    clips the sum of the replicas' gradients (the global batch's), as on one device.

    Returns:
      The global norm before clipping.
    """
    grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables, strict=True)]
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync if context is not None else 1
    if replicas > 1:
        # Each replica holds its share of the gradient (losses are scaled by the global
        # batch). The bound applies to the whole-batch gradient, so sum the shares first;
        # the Keras optimizer sums what each replica passes, so each passes total / replicas.
        grads = context.all_reduce(tf.distribute.ReduceOp.SUM, grads)
    # `tf.clip_by_global_norm`'s scale, clip / max(norm, clip), applied with one op per
    # gradient. A non-finite gradient (an exploding sampled child: deep identity/ReLU chains
    # in an RNN cell) would turn every weight into NaN for good; its step is dropped instead
    # (scale 0, and `multiply_no_nan` gives 0 even for an infinite or NaN entry), and the
    # returned norm shows it in the logs.
    norm = tf.linalg.global_norm(grads)
    finite = tf.math.is_finite(norm)
    scale = tf.where(finite, clip_norm / tf.maximum(norm, clip_norm), 0.0) / replicas
    clipped = [tf.math.multiply_no_nan(g, tf.cast(scale, g.dtype)) for g in grads]
    optimizer.apply_gradients(zip(clipped, variables, strict=True))
    return norm


def accuracy_count(logits, labels, weights=None) -> tf.Tensor:
    """Number of correct top-1 predictions (float32), to be summed across replicas.

    `weights` (0/1 per example) leaves out padding rows (`replicas.pad_final_batch`).
    """
    predictions = tf.argmax(logits, axis=-1, output_type=labels.dtype)
    right = tf.cast(tf.equal(predictions, labels), tf.float32)
    if weights is not None:
        right *= weights
    return tf.reduce_sum(right)


@keras.saving.register_keras_serializable(package="enas_tf")
class DecayAfterEpoch(keras.optimizers.schedules.LearningRateSchedule):
    """`lr * decay^max(0, epoch - start_epoch + 1)`, epoch = step // steps_per_epoch (0-based).

    The paper's language-model schedule (3.1): SGD at 20.0, "decayed by a factor of 0.96 after
    every epoch starting at epoch 15": epochs 0..14 (the first 15) run at `lr`, epoch 15 at
    `lr * decay`, epoch 16 at `lr * decay^2`, ...
    """

    def __init__(self, lr: float, decay: float, start_epoch: int, steps_per_epoch: int):
        self.lr, self.decay = float(lr), float(decay)
        self.start_epoch, self.steps_per_epoch = int(start_epoch), max(1, int(steps_per_epoch))

    def __call__(self, step):
        epoch = tf.cast(step, tf.float32) // self.steps_per_epoch
        exponent = tf.maximum(0.0, epoch - self.start_epoch + 1.0)
        return self.lr * tf.pow(self.decay, exponent)

    def get_config(self):
        return {
            "lr": self.lr,
            "decay": self.decay,
            "start_epoch": self.start_epoch,
            "steps_per_epoch": self.steps_per_epoch,
        }


def make_lm_optimizer(optim_config, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Plain SGD on `DecayAfterEpoch` (paper 3.1: lr 20, x0.96 per epoch from epoch 15)."""
    return keras.optimizers.SGD(
        learning_rate=DecayAfterEpoch(
            optim_config.lr, optim_config.decay, optim_config.decay_start_epoch, steps_per_epoch
        )
    )
