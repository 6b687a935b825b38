"""What the search loop needs to know about word-level language modelling (RNN space).

The counterpart of `enas_tf.image_task` for the recurrent-cell search (paper 3.1): batches are
truncated-BPTT windows `(inputs, targets)` of `[batch, bptt]` token ids, read in order so the
hidden state carries from one window to the next (reset to zeros at the start of every child
phase); the child loss is the mean next-word cross-entropy; a sampled child is scored by its
perplexity on one validation window (from a zero state), and the controller's reward is
`reward_constant / perplexity` (the authors' enas_lm code, c = 80).

The carried state lives in a non-trainable variable with `ON_READ` synchronisation, so under a
multi-replica strategy every replica keeps its own rows. It is not checkpointed: a search
resumed mid-epoch restarts it from zeros, which costs the first window of each row a little
context.
"""

from __future__ import annotations

import tensorflow as tf

from enas_tf import configs as config_lib
from enas_tf import training
from enas_tf.data import text as text_data
from enas_tf.models import builders


def check_lm_windows(config, splits: text_data.TextSplits) -> None:
    """Refuses batch sizes and BPTT lengths that leave no full window in a split.

    The language-model counterpart of `configs.check_batch_sizes`: checked by the pipeline
    (through `LmTask`) before it writes the workdir, and by `LmRetrain` for direct callers.

    Raises:
      ConfigError: naming the keys, their values and the split size.
    """
    checks = [
        ("search", config.search.batch_size, config.search.bptt, splits.train, "training"),
        ("search", config.search.eval_batch_size, config.search.bptt, splits.valid, "validation"),
    ]
    if "retrain" in config:
        rt = config.retrain
        checks.append(("retrain", rt.batch_size, rt.bptt, splits.train, "training"))
    for phase, batch, bptt, ids, split in checks:
        if text_data.num_windows(len(ids), batch, bptt) < 1:
            key = "eval_batch_size" if split == "validation" else "batch_size"
            raise config_lib.ConfigError(
                f"config.{phase}.{key}={batch} x bptt={bptt} leaves no full window in the "
                f"{split} split ({len(ids)} tokens): lower them or use more data"
            )


class LmTask:
    """Language modelling on `TextSplits`.

    Attributes:
      metric: "perplexity" (lower is better).
      higher_is_better: False: derive keeps the candidate with the lowest perplexity.
    """

    metric = "perplexity"
    higher_is_better = False

    def __init__(self, config, splits: text_data.TextSplits):
        self.config, self.splits = config, splits
        search = config.search
        self.bptt = search.bptt
        self.steps_per_epoch = text_data.num_windows(
            len(splits.train), search.batch_size, self.bptt
        )
        check_lm_windows(config, splits)
        self.chance_score = float(splits.vocab_size)  # perplexity of a uniform guess
        self.state = None
        self._strategy = None

    # Models and optimizers (called inside strategy.scope()) ---------------------------------
    def build_supernet(self):
        return builders.build_lm_supernet(self.config, self.splits.vocab_size)

    def make_child_optimizer(self):
        return training.make_lm_optimizer(self.config.search.optimizer, self.steps_per_epoch)

    def create_child_state(self, strategy) -> None:
        """The carried hidden state, one [per-replica batch, H] copy per replica."""
        per_replica = self.config.search.batch_size // strategy.num_replicas_in_sync
        self._strategy = strategy
        self.state = tf.Variable(
            tf.zeros([per_replica, self.config.search.model.hidden_size]),
            trainable=False,
            synchronization=tf.VariableSynchronization.ON_READ,
            aggregation=tf.VariableAggregation.NONE,
            name="lm_state",
        )

    def reset_child_state(self) -> None:
        """Zeros every replica's rows (in replica context: an ON_READ variable with no
        aggregation cannot be assigned across replicas)."""
        self._strategy.run(self._reset_replica_state)

    @tf.function
    def _reset_replica_state(self):
        self.state.assign(tf.zeros_like(self.state))

    # Data ------------------------------------------------------------------------------------
    def train_dataset(self, epoch: int, skip: int) -> tf.data.Dataset:
        """The training windows in order (the same every epoch), from window `skip`."""
        del epoch  # Truncated BPTT reads the stream in order; there is nothing to shuffle.
        return text_data.make_lm_dataset(
            self.splits.train,
            batch_size=self.config.search.batch_size,
            bptt=self.bptt,
            start_window=skip,
        )

    def valid_dataset(self, shuffle_seed: int) -> tf.data.Dataset:
        """Endless validation windows of `search.eval_batch_size` rows, in a shuffled order."""
        dataset = text_data.make_lm_dataset(
            self.splits.valid, batch_size=self.config.search.eval_batch_size, bptt=self.bptt
        )
        count = text_data.num_windows(
            len(self.splits.valid), self.config.search.eval_batch_size, self.bptt
        )
        return dataset.shuffle(count, seed=shuffle_seed).repeat()

    # Per-replica math ------------------------------------------------------------------------
    def child_loss(self, supernet, batch, tokens, global_batch_size: int):
        """(mean cross-entropy share of this replica, cell weights to decay, 0)."""
        inputs, targets = batch
        logits, next_state = supernet(inputs, self.state.read_value(), tokens, training=True)
        self.state.assign(tf.stop_gradient(next_state))
        loss = _summed_xent(targets, logits) / tf.cast(
            global_batch_size * tf.shape(targets)[1], tf.float32
        )
        # The authors' enas_lm decays the recurrent weights only (not the embedding).
        return loss, supernet.cell.trainable_variables, tf.constant(0.0)

    def child_metrics(self, mean_loss, extra_sum, num_steps, global_batch_size):
        del extra_sum, num_steps, global_batch_size
        return {"loss": mean_loss, "perplexity": tf.exp(mean_loss)}

    def score(self, supernet, batch, tokens):
        """Perplexity of one arc on one validation window, from a zero state."""
        inputs, targets = batch
        state = tf.zeros([tf.shape(inputs)[0], self.config.search.model.hidden_size])
        logits, _ = supernet(inputs, state, tokens, training=False)
        count = tf.cast(tf.size(targets), tf.float32)
        return tf.exp(_summed_xent(targets, logits) / count)

    def reward(self, score):
        """`reward_constant / perplexity` (enas_lm: 80)."""
        return self.config.search.controller.reward_constant / score


def _summed_xent(targets, logits):
    return tf.reduce_sum(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    )
