"""Tests of `BuiltByFirstCall`: one call builds every sublayer, with no scratch trace."""

import keras
import numpy as np
import tensorflow as tf

from enas_tf.layers.eager_build import BuiltByFirstCall


def _counting(base):
    class Network(base):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(3, name="dense")
            self.calls = []

        def call(self, x):
            self.calls.append(tf.executing_eagerly())
            return self.dense(x)

    return Network()


def test_the_first_call_runs_once_eagerly_and_builds_the_sublayers():
    network = _counting(BuiltByFirstCall)
    out = network(tf.ones([2, 5]))
    assert network.calls == [True]  # no symbolic pass before the eager one
    assert network.built and network.dense.built
    assert [tuple(v.shape) for v in network.weights] == [(5, 3), (3,)]
    np.testing.assert_allclose(out.numpy(), network.dense(tf.ones([2, 5])).numpy())


def test_a_plain_keras_layer_would_trace_its_call_first():
    """What the class avoids (Keras 3's build of a layer without `build`): if this starts
    failing, Keras no longer traces such layers and the class has nothing left to do."""
    network = _counting(keras.layers.Layer)
    network(tf.ones([2, 5]))
    assert network.calls == [False, True]
