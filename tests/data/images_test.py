"""Tests for enas_tf.data.images: splits, standardisation, train/eval pipelines, augmentation."""

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from enas_tf.data import embedded, image_augment
from enas_tf.data import images as image_data
from enas_tf.errors import DataError

SIZE = 12


def _data_config(**overrides) -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict(
        dict(
            source="embedded",
            tfds_name="cifar10",
            tfds_data_dir="",
            num_valid=100,
            max_train_examples=0,
            embedded=dict(num_train=400, num_test=50, image_size=16, seed=3),
        )
    )
    config.update(overrides)
    return config


def _tiny(n=48, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, SIZE, SIZE, 3), dtype=np.uint8)
    return images, np.arange(n, dtype=np.int32)  # Label = original index, to trace order.


def _collect(dataset):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def _train(images, labels, **kwargs):
    defaults = dict(batch_size=16, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), seed=7)
    defaults.update(kwargs)
    return image_data.make_train_dataset(images, labels, **defaults)


# ---------------------------------------------------------------------------------- splits


def test_load_embedded_splits_shapes_and_last_valid():
    config = _data_config()
    splits = image_data.load_image_splits(config)
    train_x, train_y, test_x, test_y, names = embedded.make_embedded_dataset(400, 50, 16, 3)

    assert splits.train_images.shape == (300, 16, 16, 3)
    assert splits.train_images.dtype == np.uint8 and splits.train_labels.dtype == np.int32
    assert splits.valid_images.shape == (100, 16, 16, 3)
    assert splits.test_images.shape == (50, 16, 16, 3)
    # The validation split is the LAST num_valid training examples.
    np.testing.assert_array_equal(splits.valid_images, train_x[-100:])
    np.testing.assert_array_equal(splits.valid_labels, train_y[-100:])
    np.testing.assert_array_equal(splits.train_images, train_x[:-100])
    np.testing.assert_array_equal(splits.test_labels, test_y)
    assert splits.num_classes == 10 and splits.class_names == names
    # Statistics are of the train split only, in pixel units.
    pixels = splits.train_images.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(splits.channel_mean, pixels.mean(0), rtol=1e-9)
    np.testing.assert_allclose(splits.channel_std, pixels.std(0), rtol=1e-6)


def test_max_train_examples_subsamples_before_the_valid_split():
    splits = image_data.load_image_splits(_data_config(max_train_examples=250, num_valid=50))
    again = image_data.load_image_splits(_data_config(max_train_examples=250, num_valid=50))
    train_x, _, _, _, _ = embedded.make_embedded_dataset(400, 50, 16, 3)

    assert len(splits.train_labels) == 200 and len(splits.valid_labels) == 50
    np.testing.assert_array_equal(splits.train_images, again.train_images)
    # The kept examples are a subset of the full training set, in their original order.
    kept = np.concatenate([splits.train_images, splits.valid_images])
    flat = train_x.reshape(len(train_x), -1)
    index = {row.tobytes(): i for i, row in enumerate(flat)}
    positions = [index[row.tobytes()] for row in kept.reshape(len(kept), -1)]
    assert positions == sorted(positions)
    assert positions[-1] > 250  # A random subset, not simply the first 250.


@pytest.mark.parametrize("num_valid", [400, 1000, 0])
def test_impossible_num_valid_is_a_data_error(num_valid):
    with pytest.raises(DataError, match="data.num_valid"):
        image_data.load_image_splits(_data_config(num_valid=num_valid))


def test_num_valid_checked_after_subsampling():
    with pytest.raises(DataError, match="max_train_examples"):
        image_data.load_image_splits(_data_config(max_train_examples=80, num_valid=100))


def test_unknown_source_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="cifar-10-batches-py"):
        image_data.load_image_splits(_data_config(source=str(tmp_path / "nope")))


def test_tfds_missing_data_dir_says_how_to_prepare(tmp_path):
    missing = str(tmp_path / "no_tfds_here")
    with pytest.raises(DataError, match="tfds build cifar10") as error:
        image_data.load_image_splits(_data_config(source="tfds", tfds_data_dir=missing))
    assert missing in str(error.value)
    assert "--config.data.source=/path/to/cifar-10-batches-py" in str(error.value)


def test_tfds_empty_data_dir_says_how_to_prepare(tmp_path):
    with pytest.raises(DataError, match="tfds build cifar10") as error:
        image_data.load_image_splits(_data_config(source="tfds", tfds_data_dir=str(tmp_path)))
    assert str(tmp_path) in str(error.value)


# ------------------------------------------------------------------------- standardisation


def test_standardize_uint8_and_float_agree():
    images, _ = _tiny(4)
    mean, std = (10.0, 20.0, 30.0), (2.0, 4.0, 8.0)
    from_uint8 = image_data.standardize(images, mean, std)
    from_float = image_data.standardize(images.astype(np.float32), mean, std)
    assert from_uint8.dtype == tf.float32
    np.testing.assert_allclose(from_uint8.numpy(), from_float.numpy())
    expected = (images.astype(np.float32) - np.array(mean)) / np.array(std)
    np.testing.assert_allclose(from_uint8.numpy(), expected, rtol=1e-6)


def test_train_pipeline_standardises_to_zero_mean_unit_std():
    images = np.random.default_rng(1).normal(100, 30, size=(64, SIZE, SIZE, 3))
    images = np.clip(images, 0, 255).astype(np.uint8)
    mean, std = image_data.channel_stats(images)
    x, _ = _collect(
        _train(images, np.zeros(64, np.int32), mean=mean, std=std, augment=False, repeat=False)
    )
    np.testing.assert_allclose(x.reshape(-1, 3).mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(x.reshape(-1, 3).std(0), 1.0, atol=1e-4)


# --------------------------------------------------------------------------- train pipeline


def test_train_dataset_shapes_dtypes_and_drop_remainder():
    images, labels = _tiny(50)
    batches = list(_train(images, labels, repeat=False))
    assert len(batches) == 3  # 50 // 16; the partial batch is dropped.
    for x, y in batches:
        assert x.shape == (16, SIZE, SIZE, 3) and x.dtype == tf.float32
        assert y.shape == (16,) and y.dtype == tf.int32
    spec = _train(images, labels).element_spec
    assert spec[0].shape == (16, SIZE, SIZE, 3)  # Static batch size (TPU/XLA).


def test_train_epoch_is_a_permutation_of_the_whole_split():
    images, labels = _tiny(48)
    x, y = _collect(_train(images, labels, augment=False, repeat=False))
    assert sorted(y.tolist()) == list(range(48))
    assert y.tolist() != list(range(48))  # Shuffled.
    np.testing.assert_array_equal(x, images[y].astype(np.float32))  # Images follow labels.


def test_train_stream_is_deterministic_given_seed():
    images, labels = _tiny(48)
    tf.random.set_seed(123)  # The global seed must not matter.
    first = _collect(_train(images, labels, seed=5, cutout_size=4, repeat=False))
    tf.random.set_seed(456)
    second = _collect(_train(images, labels, seed=5, cutout_size=4, repeat=False))
    other = _collect(_train(images, labels, seed=6, cutout_size=4, repeat=False))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[1], other[1])


def test_repeat_reshuffles_each_epoch_and_runs_on():
    images, labels = _tiny(48)
    y = np.concatenate([b[1].numpy() for b in _train(images, labels, repeat=True).take(9)])
    epochs = y.reshape(3, 48)
    for epoch in epochs:
        assert sorted(epoch.tolist()) == list(range(48))
    assert not np.array_equal(epochs[0], epochs[1])


def test_augmentation_is_a_padded_crop_with_optional_flip():
    images, labels = _tiny(48)
    plain_x, plain_y = _collect(_train(images, labels, augment=False, repeat=False))
    aug_x, aug_y = _collect(_train(images, labels, augment=True, repeat=False))
    np.testing.assert_array_equal(plain_y, aug_y)  # Augmentation does not change the order.
    assert aug_x.shape == plain_x.shape
    assert not np.allclose(aug_x, plain_x)
    pad = 4
    shifted = 0
    for original, augmented in zip(plain_x, aug_x, strict=True):
        padded = np.pad(original, [(pad, pad), (pad, pad), (0, 0)])  # Zeros after standardising.
        matches = [
            (dy, dx)
            for dy in range(2 * pad + 1)
            for dx in range(2 * pad + 1)
            for flip in (False, True)
            if np.array_equal(
                (lambda w: w[:, ::-1] if flip else w)(padded[dy : dy + SIZE, dx : dx + SIZE]),
                augmented,
            )
        ]
        assert matches, "augmented image is not a (flipped) crop of the padded image"
        shifted += (pad, pad) not in matches
    assert shifted > len(aug_x) // 2


def test_flip_happens_about_half_the_time():
    # A horizontal ramp: flipped crops decrease left to right.
    ramp = np.broadcast_to(
        np.arange(SIZE, dtype=np.uint8)[None, None, :, None] * 20, (256, SIZE, SIZE, 3)
    )
    x, _ = _collect(
        _train(np.ascontiguousarray(ramp), np.zeros(256, np.int32), batch_size=64, repeat=False)
    )
    middle = x[:, SIZE // 2, :, 0]
    flipped = np.mean(middle[:, 5] > middle[:, 6])
    assert 0.35 < flipped < 0.65


def test_cutout_zeroes_a_clipped_square():
    ones = tf.ones([200, SIZE, SIZE, 3])
    out = image_augment.cutout(ones, tf.constant([1, 2], tf.int64), 6).numpy()
    heights, widths = [], []
    for image in out:
        zero = image[..., 0] == 0
        assert np.array_equal(zero, np.all(image == 0, axis=-1))  # All channels together.
        rows, cols = np.flatnonzero(zero.any(1)), np.flatnonzero(zero.any(0))
        assert zero.sum() == len(rows) * len(cols)  # A filled rectangle.
        assert np.array_equal(rows, np.arange(rows[0], rows[-1] + 1))
        heights.append(len(rows))
        widths.append(len(cols))
    assert 3 <= min(heights) and max(heights) == 6 and max(widths) == 6
    assert min(widths) < 6  # Clipped at the border sometimes: the centre can be at the edge.


def test_train_dataset_applies_cutout():
    images = np.full((64, SIZE, SIZE, 3), 200, np.uint8)
    labels = np.zeros(64, np.int32)
    # Without a crop shift, zeros can only come from CutOut; count them relative to no cutout.
    base, _ = _collect(_train(images, labels, batch_size=32, repeat=False))
    cut, _ = _collect(_train(images, labels, batch_size=32, repeat=False, cutout_size=6))
    base_zeros = (base == 0).all(-1).sum(axis=(1, 2))
    cut_zeros = (cut == 0).all(-1).sum(axis=(1, 2))
    assert np.all(cut_zeros >= base_zeros)
    assert np.mean(cut_zeros > base_zeros) > 0.9


def test_batch_larger_than_split_is_a_data_error():
    images, labels = _tiny(8)
    with pytest.raises(DataError, match="batch_size=16"):
        _train(images, labels)


# ---------------------------------------------------------------------------- eval pipeline


def _eval(images, labels, **kwargs):
    defaults = dict(batch_size=16, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    defaults.update(kwargs)
    return image_data.make_eval_dataset(images, labels, **defaults)


def test_eval_dataset_in_order_unaugmented():
    images, labels = _tiny(50)
    mean, std = (100.0, 110.0, 120.0), (50.0, 60.0, 70.0)
    x, y = _collect(_eval(images, labels, mean=mean, std=std))
    np.testing.assert_array_equal(y, np.arange(48))  # drop_remainder=True by default.
    expected = image_data.standardize(images[:48], mean, std).numpy()
    np.testing.assert_allclose(x, expected)


def test_eval_dataset_keeps_remainder_when_asked():
    images, labels = _tiny(50)
    sizes = [len(y) for _, y in _eval(images, labels, drop_remainder=False)]
    assert sizes == [16, 16, 16, 2]


def test_eval_shuffle_is_deterministic_and_repeats():
    images, labels = _tiny(48)
    first = [y.numpy() for _, y in _eval(images, labels, shuffle_seed=3, repeat=True).take(6)]
    second = [y.numpy() for _, y in _eval(images, labels, shuffle_seed=3, repeat=True).take(6)]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(second))
    passes = np.concatenate(first).reshape(2, 48)
    assert sorted(passes[0].tolist()) == list(range(48))
    assert passes[0].tolist() != list(range(48))
    assert not np.array_equal(passes[0], passes[1])  # A new order each pass.
