"""Tests for enas_tf.data.image_stream: streaming TFRecord shards per input pipeline."""

import glob
import os

import numpy as np
import pytest
import tensorflow as tf

from enas_tf import config as config_lib
from enas_tf.data import image_stream
from enas_tf.errors import DataError


def _data(source, **overrides):
    data = config_lib.base_config().data
    data.source = str(source)
    data.update(dict(streaming="on", num_valid=32))
    data.update(overrides)
    return data


def _context(count, index):
    return tf.distribute.InputContext(
        num_input_pipelines=count, input_pipeline_id=index, num_replicas_in_sync=count
    )


def _batches(dataset):
    return [(x.numpy(), y.numpy()) for x, y in dataset]


def test_the_shards_are_what_the_fixture_says(tfds_shards):
    assert len(glob.glob(os.path.join(tfds_shards, "*train.tfrecord*"))) == 4


def test_auto_streams_only_beyond_the_memory_limit(tfds_shards, tmp_path):
    # 200 images of 16x16x3 = 153,600 bytes decoded.
    assert not image_stream.should_stream(_data(tfds_shards, streaming="auto"))
    assert image_stream.should_stream(_data(tfds_shards, streaming="auto", memory_limit_mb=0.1))
    assert not image_stream.should_stream(_data(tfds_shards, streaming="off"))
    with pytest.raises(DataError, match="data.streaming=on: .* cannot stream"):
        image_stream.should_stream(_data(tmp_path, streaming="on"))


def test_counts_come_from_metadata_and_carves_are_disjoint_slices(tfds_shards):
    splits = image_stream.open_stream(_data(tfds_shards))
    assert (splits.num_train, splits.num_valid, splits.num_test) == (128, 32, 40)
    assert splits.train_split == "train[:128]" and splits.valid_split == "train[128:160]"
    assert splits.image_shape == (16, 16, 3) and splits.class_names == ("left", "middle", "right")
    assert len(splits.channel_mean) == 3 and all(s > 1 for s in splits.channel_std)


def test_max_train_examples_slices_the_stream(tfds_shards):
    splits = image_stream.open_stream(_data(tfds_shards, max_train_examples=50))
    assert (splits.num_train, splits.num_valid) == (50, 32)
    assert splits.valid_split == "train[128:160]"


def test_a_grayscale_resized_stream(tfds_shards):
    splits = image_stream.open_stream(_data(tfds_shards, color_mode="grayscale", image_size="8"))
    dataset = image_stream.eval_batches(splits, "test", batch_size=8)
    x, _ = next(iter(dataset))
    assert x.shape == (8, 8, 8, 1)


def _train(splits, context, **overrides):
    args = dict(global_batch=16, steps=8, seed=5, skip=0, cutout_size=0, shuffle_buffer=64)
    args.update(overrides)
    return image_stream.train_batches(splits, **args).make(context)


def test_each_input_pipeline_reads_its_own_part_and_yields_the_same_number_of_batches(
    tfds_shards,
):
    splits = image_stream.open_stream(_data(tfds_shards))
    parts = [_batches(_train(splits, _context(2, i))) for i in range(2)]
    assert [len(p) for p in parts] == [8, 8]
    assert all(x.shape == (8, 16, 16, 3) for p in parts for x, _ in p)
    # Disjoint examples: undo standardisation-free check by pixel rows of the raw parts.
    import tensorflow_datasets as tfds

    halves = tfds.even_splits(splits.train_split, 2)
    seen = []
    for half in halves:
        images = [
            x.tobytes()
            for x, _ in splits.builder.as_dataset(split=half)
            .map(lambda e: (e["image"], e["label"]))
            .as_numpy_iterator()
        ]
        seen.append(set(images))
    assert len(seen[0]) == len(seen[1]) == 64 and not seen[0] & seen[1]


def test_a_seed_reproduces_the_stream_and_skip_resumes_it_exactly(tfds_shards):
    splits = image_stream.open_stream(_data(tfds_shards))
    whole = _batches(_train(splits, _context(1, 0)))
    again = _batches(_train(splits, _context(1, 0)))
    resumed = _batches(_train(splits, _context(1, 0), skip=3))
    assert len(whole) == 8 and len(resumed) == 5
    for (a, b), (c, d) in zip(whole, again, strict=True):
        np.testing.assert_array_equal(a, c) and np.testing.assert_array_equal(b, d)
    for (a, b), (c, d) in zip(whole[3:], resumed, strict=True):
        np.testing.assert_array_equal(a, c) and np.testing.assert_array_equal(b, d)
    other = _batches(_train(splits, _context(1, 0), seed=6))
    assert not np.array_equal(whole[0][1], other[0][1]) or not np.array_equal(
        whole[0][0], other[0][0]
    )


def test_evaluation_reads_every_test_example_once(tfds_shards):
    splits = image_stream.open_stream(_data(tfds_shards))
    batches = _batches(
        image_stream.eval_batches(splits, "test", batch_size=16, drop_remainder=False)
    )
    assert [len(y) for _, y in batches] == [16, 16, 8]
    labels = np.concatenate([y for _, y in batches])
    assert np.bincount(labels).tolist() == [14, 13, 13]


def test_a_sliced_train_split_cannot_be_carved(tfds_shards):
    with pytest.raises(DataError, match="is sliced, so validation/test cannot be carved"):
        image_stream.open_stream(_data(tfds_shards, train_split="train[:50%]"))
