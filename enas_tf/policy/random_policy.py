"""The uniform policy: every architecture of a search space equally likely, sampled on device.

Two things need architectures drawn uniformly from the space, inside compiled steps:

* the random-search baseline (`search.policy = "random"`, the paper's Section 3.3 comparison
  run through the same pipeline): the child phase trains the shared weights on uniformly
  sampled children and derive picks the best of uniformly sampled candidates;
* the in-run check of every ENAS search (`enas_tf.search.check`), which scores policy samples
  against uniform samples on the same validation data with the same shared weights.

Uniform over the space means uniform over token sequences: every `OpChoice` and `IndexChoice`
token is uniform over its outcomes and every skip bit is 1 with probability 1/2, independently
(the product space `search_space_size` of each space counts). That is the same distribution as
the spaces' numpy `sample_random_arc` functions, drawn here with one stateless Philox op from a
seed, so a seed means the same architecture in eager mode, in a `tf.function` and under XLA, on
any device.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import tensorflow as tf

from enas_tf.spaces import decisions

_BITS = 23  # random integers in [0, 2^23): token = (bits * n) >> 23 is uniform up to n / 2^23.


def outcome_counts(program: Sequence[decisions.DecisionStep]) -> np.ndarray:
    """Number of possible values of every token the program emits (int32 [T]).

    `OpChoice(n)` -> n, `IndexChoice(k)` -> k, `SkipChoice(k)` -> k entries of 2; anchors and
    resets emit no token.
    """
    counts: list[int] = []
    for step in program:
        if isinstance(step, decisions.OpChoice):
            counts.append(step.num_ops)
        elif isinstance(step, decisions.IndexChoice):
            counts.append(step.num_candidates)
        elif isinstance(step, decisions.SkipChoice):
            counts += [2] * step.num_candidates
    return np.asarray(counts, np.int32)


class UniformPolicy:
    """Samples token sequences of a decision program uniformly; has no weights.

    Example:
      ```
      uniform = UniformPolicy(registry.of(config).decision_program())
      tokens = uniform.sample(generator.make_seeds(1)[:, 0])   # int32 [T]
      ```
    """

    def __init__(self, program: Sequence[decisions.DecisionStep]):
        self.program = tuple(program)
        self._counts = outcome_counts(self.program)
        if self._counts.size and int(self._counts.max()) >= (1 << (31 - _BITS)):
            raise ValueError(
                f"a decision has {int(self._counts.max())} outcomes; at most "
                f"{(1 << (31 - _BITS)) - 1} are supported"
            )

    @property
    def num_tokens(self) -> int:
        """Length T of the token sequences."""
        return int(self._counts.size)

    @tf.autograph.experimental.do_not_convert
    def sample(self, seed: tf.Tensor) -> tf.Tensor:
        """One uniformly random architecture as int32 tokens [T], a pure function of `seed` [2]."""
        if not self.num_tokens:
            return tf.zeros([0], tf.int32)
        bits = tf.random.stateless_uniform(
            [self.num_tokens], seed, minval=0, maxval=1 << _BITS, dtype=tf.int32, alg="philox"
        )
        return tf.bitwise.right_shift(bits * tf.constant(self._counts), _BITS)
