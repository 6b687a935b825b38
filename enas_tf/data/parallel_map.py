"""One way to parallelise and prefetch the package's input pipelines: fixed, not autotuned.

Every pipeline here maps one function over batch indices (a vectorised gather, plus
augmentation for training images), so a few parallel calls and two prefetched batches keep it
ahead of the model; there is nothing for tf.data's autotuner to find. Autotuning is switched
off because it made iterators slow to delete: the search replaces its training iterator every
epoch and its validation iterators every controller phase, and deleting an autotuned iterator
waits for the autotuner's threads (measured on 2 cores: up to 1.1 s per deletion in a scratch
script, pauses of up to ~35 s before the quickstart's epochs; with autotuning off a few
milliseconds, the same batches per second, and no pauses). BUILD_NOTES, "Supernet start-up
and step speed", has the figures.
"""

from __future__ import annotations

import os

import tensorflow as tf

# Parallel calls of the map function: one per core, at most 8 (a TPU host has many cores; the
# map is a vectorised gather, so more calls would only hold more batches in memory).
PARALLEL_CALLS = max(1, min(8, os.cpu_count() or 1))
PREFETCH_BATCHES = 2


def map_and_prefetch(dataset: tf.data.Dataset, map_fn) -> tf.data.Dataset:
    """`dataset.map(map_fn)` in order, with fixed parallelism and prefetch, autotuning off.

    Args:
      dataset: the elements to map (batch indices in this package).
      map_fn: the per-element function.

    Returns:
      The mapped dataset, deterministic (elements in input order).
    """
    mapped = dataset.map(map_fn, num_parallel_calls=PARALLEL_CALLS, deterministic=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    return mapped.prefetch(PREFETCH_BATCHES).with_options(options)
