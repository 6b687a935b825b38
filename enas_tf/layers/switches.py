"""The switch every routed choice of a supernet goes through: one branch runs per step.

Outside XLA it is `tf.switch_case`. Inside an XLA-compiled step (the TPU form) it is a
balanced tree of `tf.cond`s over the same branches: one XLA conditional per level, still
exactly one branch computed. The reason is compile time, not what runs. TensorFlow 2.21's
XLA kernel for `Case` tries to resolve *every* operand of the op as a compile-time constant
(`ConvertCompileTimeConstArgumentsToConst` with no filter, unlike `If`, which asks only for
the operands its branches need as constants). XLA's value inference then evaluates, on the
host, the whole computation upstream of each operand for every tensor under a million
elements, once per switch: quadratic in the depth of the network. The gradient switches that
TensorFlow builds for `Case` get the same attribute, so the backward pass pays it again.
Measured (2 cores, issue #27): a chain of 4 average-pooling switches and their gradients at
batch 16 compiled in 12.3 s as `Case`s and in 0.55 s as conds, running at the same speed;
the tiny micro search step in 21.5 s against 12.6 s, the paper's micro search model at batch
20 in 415 s against 128 s (XLA on CPU; BUILD_NOTES.md). Tensors of over a million elements are not
evaluated, which is why large batches hid it; a TPU core's share of the paper's batch is
under that size in every stage.
"""

from __future__ import annotations

import tensorflow as tf

from enas_tf.layers.shared_functions import in_xla_context


def switch(index, branches):
    """Runs `branches[index]()` for an int32 scalar tensor `index` (valid: 0 <= index < n).

    Args:
      index: int32 scalar tensor; the arc validates it before it gets here.
      branches: zero-argument callables returning the same structure of same-shape tensors.
    """
    if not in_xla_context():
        return tf.switch_case(index, branches)
    return _cond_tree(index, list(branches), 0)


def _cond_tree(index, branches, first: int):
    """`branches[index - first]()` by halving: depth ceil(log2(len(branches)))."""
    if len(branches) == 1:
        return branches[0]()
    middle = len(branches) // 2
    return tf.cond(
        index < first + middle,
        lambda: _cond_tree(index, branches[:middle], first),
        lambda: _cond_tree(index, branches[middle:], first + middle),
    )
