"""FusedSGD computes what Keras' SGD computes, in every context a search or retrain runs it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from enas_tf.runtime import checkpoints
from enas_tf.training.fused_sgd import FusedSGD

_SCHEDULE = dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5)


def _train(optimizer_class, nesterov, momentum, run):
    """Five steps on two variables (a matrix and a vector) with varying gradients."""
    variables = [tf.Variable(np.ones([3, 2], np.float32)), tf.Variable([0.5, -1.0])]
    optimizer = optimizer_class(
        learning_rate=keras.optimizers.schedules.ExponentialDecay(**_SCHEDULE),
        momentum=momentum,
        nesterov=nesterov,
    )
    optimizer.build(variables)

    def step(k):
        k = tf.cast(k, tf.float32)
        grads = [tf.sin(variables[0] * (k + 1.0)), tf.cos(variables[1]) - k]
        optimizer.apply_gradients(zip(grads, variables, strict=True))

    run(step)
    return [v.numpy() for v in variables] + [v.numpy() for v in optimizer.variables]


def _eager(step):
    for k in range(5):
        step(k)


def _traced(step, jit_compile=False):
    traced = tf.function(step, jit_compile=jit_compile)
    for k in range(5):
        traced(tf.constant(k))


@pytest.mark.parametrize("momentum,nesterov", [(0.9, True), (0.9, False), (0.0, False)])
@pytest.mark.parametrize(
    "run", [_eager, _traced, lambda step: _traced(step, True)], ids=["eager", "traced", "xla"]
)
def test_updates_equal_keras_sgd(momentum, nesterov, run):
    expected = _train(keras.optimizers.SGD, nesterov, momentum, _eager)
    got = _train(FusedSGD, nesterov, momentum, run)
    assert len(got) == len(expected)
    for value, reference in zip(got, expected, strict=True):
        np.testing.assert_allclose(value, reference, rtol=1e-6, atol=1e-7)
    assert not np.allclose(got[0], 1.0)  # it did train


def test_one_fused_op_per_variable_in_the_traced_update():
    variables = [tf.Variable(tf.zeros([2, 2])) for _ in range(4)]
    optimizer = FusedSGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    optimizer.build(variables)

    @tf.function
    def update():
        optimizer.apply_gradients([(tf.ones_like(v), v) for v in variables])

    graph = update.get_concrete_function().graph
    ops = [op.type for op in graph.get_operations()]
    assert ops.count("ResourceApplyKerasMomentum") == len(variables)


def test_two_replicas_update_identically_and_as_one_device(two_replica_strategy):
    strategy = two_replica_strategy
    with strategy.scope():
        variable = tf.Variable([1.0, 2.0])
        optimizer = FusedSGD(learning_rate=0.5, momentum=0.9, nesterov=True)
        optimizer.build([variable])

    @tf.function
    def step():
        def replica():
            index = tf.distribute.get_replica_context().replica_id_in_sync_group
            grad = tf.gather(tf.constant([[1.0, 0.0], [0.0, 3.0]]), index)
            optimizer.apply_gradients([(grad, variable)])  # Keras sums the replicas' grads

        strategy.run(replica)

    step()
    step()
    reference = tf.Variable([1.0, 2.0])
    single = keras.optimizers.SGD(learning_rate=0.5, momentum=0.9, nesterov=True)
    for _ in range(2):
        single.apply_gradients([(tf.constant([1.0, 3.0]), reference)])
    for copy in strategy.experimental_local_results(variable):
        np.testing.assert_allclose(copy.numpy(), reference.numpy(), rtol=1e-6)


def test_checkpoint_keys_match_keras_sgd():
    variables = [tf.Variable(tf.zeros([2]), name="w")]
    fused, plain = FusedSGD(momentum=0.9), keras.optimizers.SGD(momentum=0.9)
    fused.build(variables)
    plain.build(variables)
    # Checkpoints key optimizer variables by their path below the optimizer's own name.
    fused_keys = checkpoints.keyed(fused.variables, "optimizer").keys()
    assert fused_keys == checkpoints.keyed(plain.variables, "optimizer").keys()
    assert "w_0_momentum" in fused_keys
