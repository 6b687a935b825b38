"""Tests for enas_tf.data.parallel_map: order kept, autotuning off in every pipeline."""

import numpy as np
import tensorflow as tf

from enas_tf.data import images as image_data
from enas_tf.data import parallel_map, text


def test_map_and_prefetch_keeps_input_order_and_switches_autotuning_off():
    # A map whose per-element cost varies, so out-of-order completion would show.
    def slow_for_even(i):
        work = tf.reduce_sum(tf.ones([tf.cast(1 + (1 - i % 2) * 200000, tf.int32)]))
        return i + tf.cast(work, tf.int64) * 0

    dataset = parallel_map.map_and_prefetch(tf.data.Dataset.range(64), slow_for_even)
    assert [int(v) for v in dataset] == list(range(64))
    assert dataset.options().autotune.enabled is False


def _images(n=32):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8), np.arange(n, dtype=np.int32)


def test_every_input_pipeline_is_fixed_not_autotuned():
    # Autotuned iterators were slow to delete, and the search replaces its iterators every
    # epoch and phase (see the module docstring); a pipeline that autotunes again fails here.
    images, labels = _images()
    stats = dict(mean=[0.0] * 3, std=[1.0] * 3)
    pipelines = {
        "train": image_data.make_train_dataset(
            images, labels, batch_size=8, seed=1, augment=True, **stats
        ),
        "eval": image_data.make_eval_dataset(images, labels, batch_size=8, **stats),
        "eval shuffled, repeated": image_data.make_eval_dataset(
            images, labels, batch_size=8, shuffle_seed=2, repeat=True, **stats
        ),
        "language model": text.make_lm_dataset(np.arange(500), batch_size=4, bptt=5),
    }
    for name, dataset in pipelines.items():
        assert dataset.options().autotune.enabled is False, name
        assert next(iter(dataset))[0].shape[0] > 0, name
