"""Tests for the embedded synthetic task: format, determinism, speed, learnable-but-not-trivial."""

import keras
import numpy as np
import pytest

from enas_tf.data import embedded
from enas_tf.data import images as image_data
from enas_tf.errors import DataError


@pytest.mark.parametrize("size", [12, 16, 32])
def test_shapes_dtypes_and_balanced_labels(size):
    train_x, train_y, test_x, test_y, names = embedded.make_embedded_dataset(205, 50, size, 0)
    assert train_x.shape == (205, size, size, 3) and train_x.dtype == np.uint8
    assert test_x.shape == (50, size, size, 3) and test_x.dtype == np.uint8
    assert train_y.shape == (205,) and train_y.dtype == np.int32
    assert test_y.shape == (50,) and test_y.dtype == np.int32
    assert names == embedded.CLASS_NAMES and len(names) == embedded.NUM_CLASSES == 10
    counts = np.bincount(train_y, minlength=10)
    assert counts.min() >= 20 and counts.max() <= 21
    assert set(np.unique(test_y)) == set(range(10))
    # Every image shows its pattern: a clear spread of pixel values, not a blank.
    assert np.all(train_x.reshape(205, -1).std(axis=1) > 10)


def test_same_seed_identical_different_seed_differs():
    first = embedded.make_embedded_dataset(100, 20, 16, seed=1)
    second = embedded.make_embedded_dataset(100, 20, 16, seed=1)
    other = embedded.make_embedded_dataset(100, 20, 16, seed=2)
    for a, b in zip(first[:4], second[:4], strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    assert not np.array_equal(first[2], other[2])


def test_test_set_does_not_depend_on_num_train():
    _, _, test_a, labels_a, _ = embedded.make_embedded_dataset(100, 30, 16, seed=4)
    _, _, test_b, labels_b, _ = embedded.make_embedded_dataset(300, 30, 16, seed=4)
    np.testing.assert_array_equal(test_a, test_b)
    np.testing.assert_array_equal(labels_a, labels_b)


def test_colour_and_position_carry_no_class_information():
    train_x, train_y, _, _, _ = embedded.make_embedded_dataset(2000, 10, 16, seed=0)
    x = train_x.astype(np.float64)
    class_colours = np.stack([x[train_y == k].mean(axis=(0, 1, 2)) for k in range(10)])
    assert np.ptp(class_colours, axis=0).max() < 12  # Mean colour: the same for every class.
    # Patterns sit anywhere (on a torus), so each class's mean image is flat: its pixels
    # differ from its own average by far less than the pattern contrast (~100 levels).
    for k in range(10):
        mean_image = x[train_y == k].mean(axis=(0, 3))
        assert np.abs(mean_image - mean_image.mean()).max() < 15, embedded.CLASS_NAMES[k]


def test_generates_the_largest_documented_size():
    # Generation time (~2 s here) is recorded in the module docstring, not asserted.
    train_x, train_y, test_x, _, _ = embedded.make_embedded_dataset(6000, 1000, 32, seed=0)
    assert train_x.shape == (6000, 32, 32, 3) and test_x.shape == (1000, 32, 32, 3)
    assert np.bincount(train_y, minlength=10).min() > 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_train=10, num_test=10, image_size=8), "image_size=8"),
        (dict(num_train=0, num_test=10, image_size=16), "num_train=0"),
        (dict(num_train=10, num_test=-1, image_size=16), "num_test=-1"),
    ],
)
def test_bad_arguments_are_data_errors(kwargs, match):
    with pytest.raises(DataError, match=match):
        embedded.make_embedded_dataset(seed=0, **kwargs)


def _linear_accuracies(train_x, train_y, test_x, test_y):
    """Nearest-class-mean and ridge least-squares classifiers on raw pixels."""
    x = train_x.reshape(len(train_x), -1).astype(np.float64) / 255
    t = test_x.reshape(len(test_x), -1).astype(np.float64) / 255
    centre = x.mean(0)
    x, t = x - centre, t - centre
    class_means = np.stack([x[train_y == k].mean(0) for k in range(10)])
    distances = ((t[:, None, :] - class_means[None]) ** 2).sum(-1)
    ncm = np.mean(distances.argmin(1) == test_y)
    xb = np.c_[x, np.ones(len(x))]
    weights = np.linalg.solve(xb.T @ xb + np.eye(xb.shape[1]), xb.T @ np.eye(10)[train_y])
    lsq = np.mean((np.c_[t, np.ones(len(t))] @ weights).argmax(1) == test_y)
    return ncm, lsq


def _conv_accuracy(train_x, train_y, test_x, test_y, *, kernel, epochs):
    """A 3-layer conv net with max pooling; `kernel=1` leaves it only the pooling's context."""
    mean, std = image_data.channel_stats(train_x)
    x = image_data.standardize(train_x, mean, std).numpy()
    t = image_data.standardize(test_x, mean, std).numpy()
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(train_x.shape[1:]),
            keras.layers.Conv2D(32, kernel, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, kernel, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, kernel, padding="same", activation="relu"),
            keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        keras.optimizers.Adam(3e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x, train_y, batch_size=64, epochs=epochs, verbose=0)
    return model.evaluate(t, test_y, verbose=0)[1]


@pytest.mark.slow
def test_learnable_by_a_conv_net_but_not_by_a_linear_or_pointwise_model():
    train_x, train_y, test_x, test_y, _ = embedded.make_embedded_dataset(3000, 1000, 16, seed=0)
    ncm, lsq = _linear_accuracies(train_x, train_y, test_x, test_y)
    conv = _conv_accuracy(train_x, train_y, test_x, test_y, kernel=3, epochs=6)
    pointwise = _conv_accuracy(train_x, train_y, test_x, test_y, kernel=1, epochs=6)
    print(
        f"nearest-class-mean {ncm:.3f}, least-squares {lsq:.3f}, 3x3 net {conv:.3f}, "
        f"1x1 net {pointwise:.3f}"
    )
    assert ncm < 0.2 and lsq < 0.25  # Chance is 0.1.
    assert conv > 0.9
    assert conv > max(ncm, lsq, pointwise) + 0.5
