"""TFDS image-classification datasets: any prepared dataset by name and split, never downloaded.

ENAS runs are often on machines without internet (TPU VMs, clusters), so nothing here
downloads: a dataset that is not prepared in `data.tfds_data_dir` is one error line saying how
to prepare it elsewhere (`tfds build NAME`). Which feature is the image and which the label
comes from the dataset's `supervised_keys`, or else from its feature types (one `Image` and
one `ClassLabel`), so datasets written by `tfds.dataset_builders.store_as_tfds_dataset` work
too. Split names take TFDS's slicing syntax (`train[:90%]`, `train[10%:]+validation`).
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from enas_tf.data import image_arrays
from enas_tf.errors import DataError

_CHUNK = 1024  # examples per batch when reading a split into memory


def tfds_help(name: str, data_dir: str, problem: str) -> str:
    """The one-line error for a dataset that cannot be read, with how to prepare it."""
    dir_flag = data_dir or "DIR"
    return (
        f"TFDS dataset {name!r}: {problem}. Prepare it on a machine with internet with "
        f"`tfds build {name} --data_dir={dir_flag}` and copy the directory here "
        f"(--config.data.tfds_data_dir={dir_flag}), or use the python CIFAR-10 files with "
        "--config.data.source=/path/to/cifar-10-batches-py."
    )


def open_builder(name: str, data_dir: str):
    """The prepared builder of `name` in `data_dir` ('' = TFDS's default directory)."""
    import tensorflow_datasets as tfds  # Slow import; only needed for this source.

    if data_dir and not os.path.isdir(os.path.expanduser(data_dir)):
        raise DataError(tfds_help(name, data_dir, f"directory {data_dir!r} does not exist"))
    shown_dir = data_dir or "the TFDS default directory (~/tensorflow_datasets)"
    try:
        builder = tfds.builder(name, data_dir=os.path.expanduser(data_dir) if data_dir else None)
        if not builder.is_prepared():
            raise FileNotFoundError("it is not prepared there")
    except Exception as e:  # TFDS raises several types (DatasetNotFoundError, AssertionError).
        problem = f"could not read it from {shown_dir}: {str(e).splitlines()[0].rstrip('.')}"
        raise DataError(tfds_help(name, data_dir, problem)) from e
    return builder


def is_dataset_directory(path: str) -> bool:
    """Whether `path` is a prepared TFDS dataset's version directory (shards + metadata)."""
    path = os.path.expanduser(path)
    return os.path.isfile(os.path.join(path, "dataset_info.json"))


def builder_from_directory(path: str):
    """The read-only builder of a prepared dataset directory (`.../NAME/VERSION`)."""
    import tensorflow_datasets as tfds

    try:
        return tfds.builder_from_directory(os.path.expanduser(path))
    except Exception as e:  # TFDS raises several types for a damaged directory
        raise DataError(
            f"{path} looks like a TFDS dataset (it has dataset_info.json) but cannot be read: "
            f"{str(e).splitlines()[0]}"
        ) from e


def feature_keys(builder) -> tuple[str, str]:
    """(image key, label key) of an image-classification dataset."""
    import tensorflow_datasets as tfds

    info = builder.info
    if info.supervised_keys and all(isinstance(k, str) for k in info.supervised_keys):
        image_key, label_key = info.supervised_keys
    else:
        features = info.features
        images = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
        labels = [k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)]
        if len(images) != 1 or len(labels) != 1:
            raise DataError(
                f"TFDS dataset {info.name!r} is not image classification as this search needs "
                f"(one Image and one ClassLabel feature): its features are {sorted(features)}."
            )
        image_key, label_key = images[0], labels[0]
    return image_key, label_key


def class_names(builder, label_key: str) -> tuple[str, ...]:
    feature = builder.info.features[label_key]
    names = getattr(feature, "names", None)
    if names:
        return tuple(names)
    return tuple(str(i) for i in range(int(feature.num_classes)))


def num_examples(builder, split: str) -> int:
    """Examples of `split` (slicing allowed) from the dataset's metadata, not by reading it."""
    try:
        return int(builder.info.splits[split].num_examples)
    except (KeyError, ValueError, TypeError) as e:
        available = ", ".join(sorted(builder.info.splits.keys()))
        raise DataError(
            f"TFDS dataset {builder.info.name!r} has no split {split!r} (it has {available}; "
            "slices like 'train[:90%]' are allowed): set data.train_split / valid_split / "
            f"test_split. ({str(e).splitlines()[0]})"
        ) from e


def load_splits(
    builder, *, train: str, valid: str, test: str, size
) -> tuple[dict, tuple[str, ...]]:
    """Reads train / valid / test of a prepared dataset into memory.

    Args:
      builder: the prepared dataset (`open_builder`, `builder_from_directory`).
      train, valid, test: split specs; '' for valid or test = none (carved from train); a
        test split the dataset does not have counts as none.
      size: (height, width) to resize to while reading (required when the dataset's images
        differ in size), or None.

    Returns:
      ({'train': (x, y), 'valid': (x, y) or None, 'test': ...}, class names).
    """
    image_key, label_key = feature_keys(builder)
    shape = builder.info.features[image_key].shape
    if test == "test" and "test" not in builder.info.splits:
        test = ""  # the default on a dataset without a test split: carved if asked
    if size is None and (shape[0] is None or shape[1] is None):
        raise DataError(
            f"TFDS dataset {builder.info.name!r} has images of varying size: set "
            "data.image_size (e.g. --config.data.image_size=64, or HEIGHTxWIDTH)."
        )
    splits = {}
    for which, spec in (("train", train), ("valid", valid), ("test", test)):
        if not spec:
            splits[which] = None
            continue
        num_examples(builder, spec)  # a clear error for a split that does not exist
        dataset = builder.as_dataset(split=spec, shuffle_files=False)
        splits[which] = _read_all(dataset, image_key, label_key, size)
    return splits, class_names(builder, label_key)


def _read_all(dataset, image_key: str, label_key: str, size):
    """A whole split as numpy, resized per example if `size` is set."""

    def pick(example):
        image = example[image_key]
        if size is not None:
            image = tf.cast(tf.round(image_arrays.resize_one(image, size, "stretch")), tf.uint8)
        return image, example[label_key]

    images, labels = [], []
    for x, y in dataset.map(pick).batch(_CHUNK).as_numpy_iterator():
        images.append(x)
        labels.append(y)
    if not images:
        return np.zeros((0, 1, 1, 1), np.uint8), np.zeros((0,), np.int64)
    return np.concatenate(images), np.concatenate(labels)
