"""Images streamed from TFRecord shards (a TFDS dataset) for data larger than memory.

A TFDS dataset is TFRecord shards plus metadata (`dataset_info.json`: example counts, class
names, image shape), so it is what this package streams: `tfds:NAME` with
`data.tfds_data_dir`, or the path of a prepared dataset's version directory. Whether a source
streams or is read into memory is `data.streaming`: `auto` streams when the decoded images
would take more than `data.memory_limit_mb` (counts and shapes come from the metadata, nothing
is read to decide), `on` / `off` force it.

The training stream is built by each input pipeline for itself (`replicas.PipelineBatches`):
pipeline i of n reads only its part of the training split (`tfds.even_splits`, i.e. its own
shard range), shuffles its shards' order and a bounded buffer of still-encoded examples
(`data.shuffle_buffer`), decodes and resizes in a parallel map, and batches its share of the
global batch with `drop_remainder` (static shapes for TPU). Every pipeline yields exactly
`steps` batches per epoch (its part repeats if it is short), so workers never wait on each
other at an epoch end. Augmentation is the in-memory pipeline's (`image_augment.augment_batch`),
seeded by (seed, epoch, pipeline, step), so a seed reproduces the stream and a resumed epoch
skips the examples it had consumed before decoding them.

Validation (controller rewards, checks, derive) and whole-split evaluation read the (small)
validation and test splits whole in every pipeline and keep their rows of each global batch,
as the in-memory path does; the splits are disjoint by construction (different TFDS splits or
slices). Channel statistics come from the first `_STATS_EXAMPLES` training examples.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf
from absl import logging

from enas_tf.data import (
    image_arrays,
    image_augment,
    image_options,
    images,
    parallel_map,
    tfds_images,
)
from enas_tf.errors import DataError
from enas_tf.runtime.replicas import PipelineBatches

_STATS_EXAMPLES = 10_000
_READ_BUFFER_BYTES = 1 << 20  # per shard file being read
_SEED_MIX = 1_000_003


@dataclasses.dataclass(frozen=True)
class StreamSplits:
    """A streamed dataset: where each split is, its size, and how to decode it."""

    builder: object
    image_key: str
    label_key: str
    train_split: str
    valid_split: str
    test_split: str
    num_train: int
    num_valid: int
    num_test: int
    image_shape: tuple[int, int, int]
    resize_mode: str
    num_classes: int
    class_names: tuple[str, ...]
    channel_mean: tuple[float, ...]
    channel_std: tuple[float, ...]


def open_builder(data_config):
    """The TFDS builder of a streamable source, or None if the source cannot stream."""
    source = str(data_config.source).strip()
    if source == "tfds" or source.startswith("tfds:"):
        name = str(data_config.tfds_name) if source == "tfds" else source[len("tfds:") :]
        return tfds_images.open_builder(name, str(data_config.get("tfds_data_dir", "")))
    if tfds_images.is_dataset_directory(source):
        return tfds_images.builder_from_directory(source)
    return None


def decoded_bytes(builder, data_config) -> int:
    """Bytes the decoded uint8 images of every split would take in memory (from metadata)."""
    image_key, _ = tfds_images.feature_keys(builder)
    height, width, channels = _image_shape(builder, image_key, data_config)
    total = sum(int(info.num_examples) for info in builder.info.splits.values())
    return total * height * width * channels


def should_stream(data_config) -> bool:
    """`data.streaming` applied to the source (only TFDS-format sources can stream)."""
    mode = str(data_config.get("streaming", "auto"))
    builder = open_builder(data_config) if mode != "off" else None
    if builder is None:
        if mode == "on":
            raise DataError(
                f"data.streaming=on: data.source={str(data_config.source)!r} cannot stream; "
                "streaming reads TFRecord shards of a TFDS dataset (tfds:NAME, or the path of "
                "a prepared dataset's directory)."
            )
        return False
    if mode == "on":
        return True
    limit = float(data_config.get("memory_limit_mb", 2048)) * 2**20
    return decoded_bytes(builder, data_config) > limit


def _image_shape(builder, image_key: str, data_config) -> tuple[int, int, int]:
    shape = builder.info.features[image_key].shape
    size = image_options.parse_image_size(data_config.get("image_size", ""))
    if size is None:
        if shape[0] is None or shape[1] is None:
            raise DataError(
                f"TFDS dataset {builder.info.name!r} has images of varying size: set "
                "data.image_size (e.g. --config.data.image_size=64, or HEIGHTxWIDTH)."
            )
        size = (int(shape[0]), int(shape[1]))
    native = int(shape[2]) if len(shape) == 3 and shape[2] else 3
    channels = image_arrays.target_channels(str(data_config.get("color_mode", "auto")), native)
    return (*size, channels)


def open_stream(data_config) -> StreamSplits:
    """Opens a TFDS-format source for streaming: split specs, counts, shape, statistics.

    Raises:
      DataError: the source, a split, or a carve is impossible (named).
    """
    builder = open_builder(data_config)
    image_key, label_key = tfds_images.feature_keys(builder)
    image_shape = _image_shape(builder, image_key, data_config)
    train, valid, test = _split_specs(builder, data_config)
    counts = [tfds_images.num_examples(builder, spec) for spec in (train, valid, test)]
    names = tfds_images.class_names(builder, label_key)
    partial = StreamSplits(
        builder,
        image_key,
        label_key,
        train,
        valid,
        test,
        *counts,
        image_shape,
        str(data_config.get("resize_mode", "stretch")),
        len(names),
        names,
        (),
        (),
    )
    mean, std = _first_images_stats(partial, min(counts[0], _STATS_EXAMPLES))
    return dataclasses.replace(partial, channel_mean=mean, channel_std=std)


def _split_specs(builder, data_config) -> tuple[str, str, str]:
    """(train, valid, test) TFDS split specs; missing ones carved from the end of train."""
    train = str(data_config.get("train_split", "train"))
    valid = str(data_config.get("valid_split", ""))
    test = str(data_config.get("test_split", "test"))
    if test == "test" and "test" not in builder.info.splits:
        test = ""  # the default on a dataset without a test split: carved if asked
    num_test = num_valid = 0
    total = tfds_images.num_examples(builder, train)
    if not test:
        fraction = float(data_config.get("test_fraction", 0.0))
        if fraction <= 0.0:
            raise DataError(
                f"TFDS dataset {builder.info.name!r} has no test split: set data.test_split "
                "or carve one with --config.data.test_fraction=0.1."
            )
        num_test = max(1, round(fraction * total))
    if not valid:
        fraction = float(data_config.get("valid_fraction", 0.0))
        rest = total - num_test
        num_valid = max(1, round(fraction * rest)) if fraction > 0 else int(data_config.num_valid)
    carved = num_test + num_valid
    keep = int(data_config.get("max_train_examples", 0) or 0)
    if not carved and not (0 < keep < total):
        return train, valid, test
    if "[" in train or "+" in train:
        raise DataError(
            f"data.train_split={train!r} is sliced, so validation/test cannot be carved from "
            "it nor data.max_train_examples applied: name the splits (data.valid_split="
            "'train[90%:]', data.test_split=...) and slice train to the size you want."
        )
    if carved >= total:
        raise DataError(
            f"Carving {carved} validation/test examples leaves no training data in split "
            f"{train!r} ({total} examples): lower data.num_valid / the fractions."
        )
    if num_valid:
        valid = f"{train}[{total - carved}:{total - num_test}]"
    if num_test:
        test = f"{train}[{total - num_test}:]"
    # max_train_examples keeps the first examples (TFDS writes its shards shuffled).
    kept = total - carved if keep <= 0 else min(keep, total - carved)
    return f"{train}[:{kept}]", valid, test


def _read(splits: StreamSplits, split: str, *, shuffle_files=False, read_config=None):
    """(encoded image, label) pairs of `split`, still encoded (decoding is the caller's)."""
    import tensorflow_datasets as tfds

    # A stream must hold nothing that grows with the data: TFDS caches a dataset under 250 MiB
    # in memory on its first unshuffled pass ("autocache"), and gives each of the (up to 16)
    # shard files it interleaves an 8 MiB read buffer, filled as far as the file goes (measured:
    # +117 MiB between 5,000 and 40,000 images). `_READ_BUFFER_BYTES` bounds the latter.
    read_config = read_config or tfds.ReadConfig()
    read_config.try_autocache = False
    read_config.override_buffer_size = _READ_BUFFER_BYTES
    dataset = splits.builder.as_dataset(
        split=split,
        shuffle_files=shuffle_files,
        read_config=read_config,
        decoders={splits.image_key: tfds.decode.SkipDecoding()},
    )
    return dataset.map(lambda ex: (ex[splits.image_key], ex[splits.label_key]))


def _decoder(splits: StreamSplits):
    height, width, channels = splits.image_shape

    def decode(contents, label):
        image = image_arrays.decode_encoded(contents, channels)
        image = image_arrays.resize_one(image, (height, width), splits.resize_mode)
        return tf.ensure_shape(image, splits.image_shape), tf.cast(label, tf.int32)

    return decode


def _first_images_stats(splits: StreamSplits, count: int):
    """Channel statistics of the first `count` training images, one batch in memory at a time."""
    dataset = _read(splits, splits.train_split).take(count).map(_decoder(splits)).batch(256)
    histograms = 0
    for x, _ in dataset.as_numpy_iterator():
        histograms = histograms + images.channel_histograms(np.round(x).astype(np.uint8))
    if count == 0:
        raise DataError(f"The training split {splits.train_split!r} is empty.")
    return images.stats_from_histograms(histograms)


def train_batches(
    splits: StreamSplits,
    *,
    global_batch: int,
    steps: int,
    seed: int,
    skip: int,
    cutout_size: int,
    shuffle_buffer: int,
    resize_to: tuple[int, int] | None = None,
) -> PipelineBatches:
    """One epoch's training batches, each input pipeline reading its own part of the shards."""
    import tensorflow_datasets as tfds

    def make(context: tf.distribute.InputContext) -> tf.data.Dataset:
        count, index = context.num_input_pipelines, context.input_pipeline_id
        if global_batch % count:
            raise DataError(f"batch size {global_batch} is not divisible by {count} workers")
        rows = global_batch // count
        part = splits.train_split
        if count > 1:
            part = tfds.even_splits(splits.train_split, count)[index]
            logging.info(
                "input pipeline %d of %d reads %s", index, count, describe_part(splits, part)
            )
        stream_seed = (seed * _SEED_MIX + index) % (2**31 - 1)
        read = tfds.ReadConfig(
            shuffle_seed=stream_seed, shuffle_reshuffle_each_iteration=True, try_autocache=False
        )
        examples = _read(splits, part, shuffle_files=True, read_config=read).repeat()
        examples = examples.shuffle(shuffle_buffer, seed=stream_seed).skip(skip * rows)
        batches = parallel_map.map_and_prefetch(examples, _decoder(splits))
        batches = batches.batch(rows, drop_remainder=True).take(max(steps - skip, 0))

        def finish(step, batch):
            x, y = batch
            x = images.standardize(
                images.resize_batch(x, resize_to), splits.channel_mean, splits.channel_std
            )
            step_seed = tf.stack([tf.constant(stream_seed, tf.int64), step + skip])
            return image_augment.augment_batch(x, step_seed, cutout_size), y

        return batches.enumerate().map(finish).prefetch(parallel_map.PREFETCH_BATCHES)

    return PipelineBatches(make)


def describe_part(splits: StreamSplits, part) -> str:
    """Which shards (and how many of their examples) a part of a split reads, for the log."""
    instructions = splits.builder.info.splits[part].file_instructions
    files = ", ".join(
        f"{os.path.basename(i.filename)} [{i.skip}:{i.skip + i.take}]" for i in instructions
    )
    return f"{sum(i.take for i in instructions)} examples: {files}"


def eval_batches(
    splits: StreamSplits,
    split: str,
    *,
    batch_size: int,
    shuffle_seed: int | None = None,
    repeat: bool = False,
    drop_remainder: bool = True,
    shuffle_buffer: int = 10_000,
    resize_to: tuple[int, int] | None = None,
) -> tf.data.Dataset:
    """Global batches of the validation or test split, standardised, unaugmented."""
    spec = splits.valid_split if split == "valid" else splits.test_split
    examples = _read(splits, spec)
    if repeat:
        examples = examples.repeat()
    if shuffle_seed is not None:
        examples = examples.shuffle(shuffle_buffer, seed=shuffle_seed % (2**31 - 1))
    decoded = parallel_map.map_and_prefetch(examples, _decoder(splits))
    batches = decoded.batch(batch_size, drop_remainder=drop_remainder or repeat)
    return batches.map(
        lambda x, y: (
            images.standardize(
                images.resize_batch(x, resize_to), splits.channel_mean, splits.channel_std
            ),
            y,
        )
    )
