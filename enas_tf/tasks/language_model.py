"""Word-level language modelling (RNN space): everything the pipeline needs to know about it.

The counterpart of `enas_tf.tasks.image` for the recurrent-cell search (paper 3.1, appendix A):
batches are truncated-BPTT windows `(inputs, targets)` of `[batch, bptt]` token ids, read in
order so the hidden state carries from one window to the next (reset to zeros at the start of
every child phase and retraining epoch); the child loss is the mean next-word cross-entropy; a
sampled child is scored by its perplexity on one validation window (from a zero state), and
the controller's reward is `reward_constant / perplexity` (the authors' enas_lm code, c = 80).
The retrained model is evaluated by its perplexity over whole splits (state carried, no
dropout) and exported with the vocabulary inside.

The carried states live in non-trainable variables with `ON_READ` synchronisation, so under a
multi-replica strategy every replica keeps its own rows. They are not checkpointed: a run
resumed mid-epoch restarts them from zeros, which costs the first window of each row a little
context.
"""

from __future__ import annotations

import math
import os

import keras
import tensorflow as tf
from absl import logging

from enas_tf import config as config_lib
from enas_tf import training
from enas_tf.data import text as text_data
from enas_tf.export import write_version
from enas_tf.spaces import registry


def check_lm_windows(config, splits: text_data.TextSplits) -> None:
    """Refuses batch sizes and BPTT lengths that leave no full window in a split.

    The language-model counterpart of `config.check_batch_sizes`: checked when an `LmTask`
    is made, i.e. by the pipeline before it writes the workdir.

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
    """Language modelling on `TextSplits`: search, retraining, evaluation and export.

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
        self.state = None  # the search's carried state (`create_child_state`)
        self.retrain_state = self.eval_state = None  # retraining's (`create_retrain_state`)
        self._strategy = None

    @classmethod
    def load(cls, config) -> LmTask:
        """The task on `config.data`'s corpus (a bad path or file fails here); logs how the
        corpus deviates from the standard PTB files, if it does."""
        splits = text_data.load_text_splits(config.data)
        for deviation in splits.deviations:
            logging.warning("data: %s", deviation)
        return cls(config, splits)

    @property
    def description(self) -> str:
        """One line for the run's log: the splits' sizes, the vocabulary and the source."""
        splits = self.splits
        return (
            f"{len(splits.train)} train / {len(splits.valid)} valid / {len(splits.test)} test "
            f"tokens, vocabulary {splits.vocab_size} ({splits.source})"
        )

    # Models and optimizers (called inside strategy.scope()) ---------------------------------
    def build_supernet(self):
        return registry.of(self.config).build_supernet(vocab_size=self.splits.vocab_size)

    def make_child_optimizer(self):
        return training.make_lm_optimizer(self.config.search.optimizer, self.steps_per_epoch)

    def create_child_state(self, strategy) -> None:
        """The carried hidden state, one [per-replica batch, H] copy per replica."""
        search = self.config.search
        self._strategy = strategy
        self.state = _replica_state(
            search.batch_size // strategy.num_replicas_in_sync,
            search.model.hidden_size,
            "lm_state",
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

    def loss_score(self, supernet, batch, tokens):
        """Mean cross-entropy (log perplexity) of one arc on one window (derive.rank_by=loss)."""
        inputs, targets = batch
        state = tf.zeros([tf.shape(inputs)[0], self.config.search.model.hidden_size])
        logits, _ = supernet(inputs, state, tokens, training=False)
        return _summed_xent(targets, logits) / tf.cast(tf.size(targets), tf.float32)

    def reward(self, score):
        """`reward_constant / perplexity` (enas_lm: 80)."""
        return self.config.search.controller.reward_constant / score

    # Retraining the fixed child (`enas_tf.retrain`) --------------------------------------------
    def retrain_steps_per_epoch(self) -> int:
        rt = self.config.retrain
        return text_data.num_windows(len(self.splits.train), rt.batch_size, rt.bptt)

    def build_child(self, arc):
        """The fixed LM of `arc` at the retrain size (call inside `strategy.scope()`)."""
        return registry.of(self.config).build_child(arc, vocab_size=self.splits.vocab_size)

    def make_retrain_optimizer(self, steps_per_epoch: int):
        return training.make_lm_optimizer(self.config.retrain.optimizer, steps_per_epoch)

    def create_retrain_state(self, strategy) -> None:
        """The carried states of training and of whole-split evaluation, per replica."""
        rt, replicas = self.config.retrain, strategy.num_replicas_in_sync
        self._strategy = strategy
        hidden = rt.model.hidden_size
        self.retrain_state = _replica_state(rt.batch_size // replicas, hidden, "lm_state")
        self.eval_state = _replica_state(rt.eval_batch_size // replicas, hidden, "lm_eval_state")

    def reset_retrain_state(self) -> None:
        """Zeros both carried states on every replica."""
        self._strategy.run(self._reset_retrain_replica_state)

    @tf.function
    def _reset_retrain_replica_state(self):
        self.retrain_state.assign(tf.zeros_like(self.retrain_state))
        self.eval_state.assign(tf.zeros_like(self.eval_state))

    def begin_retrain_epoch(self, child, epoch: int) -> None:
        """Every (re)start of an epoch reads the stream from its start: zero state."""
        del child, epoch
        self.reset_retrain_state()

    def retrain_dataset(self, epoch: int, skip: int) -> tf.data.Dataset:
        """The training windows in order (the same every epoch), from window `skip`."""
        del epoch
        rt = self.config.retrain
        return text_data.make_lm_dataset(
            self.splits.train, batch_size=rt.batch_size, bptt=rt.bptt, start_window=skip
        )

    def retrain_loss(self, child, batch, global_batch_size: int):
        """(mean cross-entropy share of this replica, cell weights to decay, 0)."""
        inputs, targets = batch
        logits, next_state = child(inputs, self.retrain_state.read_value(), training=True)
        self.retrain_state.assign(tf.stop_gradient(next_state))
        loss = _summed_xent(targets, logits) / tf.cast(
            global_batch_size * tf.shape(targets)[1], tf.float32
        )
        return loss, child.cell.trainable_variables, tf.constant(0.0)

    # Whole-split evaluation of the fixed child ----------------------------------------------
    def eval_dataset(self, split: str) -> tf.data.Dataset:
        """Every full BPTT window of `split` ("valid" or "test"; the tail shorter than a window
        is not scored, as in enas_lm), `retrain.eval_batch_size` rows shared by the replicas."""
        rt = self.config.retrain
        ids = self.splits.valid if split == "valid" else self.splits.test
        return text_data.make_lm_dataset(ids, batch_size=rt.eval_batch_size, bptt=rt.bptt)

    def eval_sums(self, child, batch):
        """(summed cross-entropy, predicted tokens) of this replica's rows, state carried."""
        inputs, targets = batch
        logits, next_state = child(inputs, self.eval_state.read_value(), training=False)
        self.eval_state.assign(next_state)
        return _summed_xent(targets, logits), tf.cast(tf.size(targets), tf.float32)

    def eval_score(self, total: float, count: float) -> float:
        """Perplexity from summed cross-entropy and predicted tokens."""
        return math.exp(total / max(count, 1.0))

    def result_fields(self) -> dict:
        """Which corpus the result is on, and how it deviates from the standard PTB files."""
        return {"data": self.splits.source, "data_deviations": list(self.splits.deviations)}

    # Export ------------------------------------------------------------------------------------
    def export(self, child, arc, export_root: str, version: int | None = None) -> str:
        """Writes `export_root/<version>/` with two signatures and `vocab.txt`.

        * `serving_default`: `words` (string [None, T]) -> `log_probs` (float32 [None, T, V],
          the log-probability of every vocabulary word as the next word after each position)
          and `next_word` (string [None, T], the most likely one). The vocabulary lookup is
          inside the model; a word outside the vocabulary maps to `<unk>` (or `<eos>` when
          the vocabulary has no `<unk>`).
        * `ids`: the same from token ids (`token_ids` int32 [None, T]).

        Every request starts from a zero hidden state: a client sends the context it wants
        the model to condition on. `vocab.txt` holds one word per line, line number = id.
        """
        splits = self.splits
        unk_id = splits.unk_id if splits.unk_id is not None else splits.eos_id

        def write(staging):
            table, from_words, from_ids = _serving_fns(child, splits.vocab, unk_id)
            archive = keras.export.ExportArchive()
            archive.track(child)
            archive.track(table)
            archive.add_endpoint(
                "serve",
                from_words,
                input_signature=[tf.TensorSpec([None, None], tf.string, "words")],
            )
            archive.add_endpoint(
                "ids",
                from_ids,
                input_signature=[tf.TensorSpec([None, None], tf.int32, "token_ids")],
            )
            archive.write_out(staging, verbose=False)
            with open(os.path.join(staging, "vocab.txt"), "w") as f:
                f.write("\n".join(splits.vocab) + "\n")

        return write_version(export_root, arc, write, version)


def _serving_fns(child, vocab, unk_id):
    """(lookup table, words -> outputs, ids -> outputs) around a fixed `RnnChild`."""
    vocab_tensor = tf.constant(list(vocab))
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(vocab_tensor, tf.range(len(vocab), dtype=tf.int32)),
        default_value=int(unk_id),
    )

    def from_ids(token_ids):
        state = tf.zeros([tf.shape(token_ids)[0], child.hidden_size])
        logits, _ = child(token_ids, state, training=False)
        best = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return {"log_probs": tf.nn.log_softmax(logits), "next_word": tf.gather(vocab_tensor, best)}

    def from_words(words):
        return from_ids(table.lookup(words))

    return table, from_words, from_ids


def _replica_state(rows: int, hidden_size: int, name: str) -> tf.Variable:
    """A [rows, H] zero state, one copy per replica (ON_READ: never synchronised)."""
    return tf.Variable(
        tf.zeros([rows, hidden_size]),
        trainable=False,
        synchronization=tf.VariableSynchronization.ON_READ,
        aggregation=tf.VariableAggregation.NONE,
        name=name,
    )


def _summed_xent(targets, logits):
    return tf.reduce_sum(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    )
