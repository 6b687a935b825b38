"""Where a search's images come from: `data.source` read into uint8 arrays, one kind per source.

`data.source` is one of:

* `embedded`: the synthetic set generated in a second (`enas_tf.data.embedded`);
* a `cifar-10-batches-py` directory (the python pickles; the paper's data);
* any other directory: an image folder (`enas_tf.data.image_folder`), either one folder of
  class subfolders or `train/` (+ `valid/`, `test/`) folders of them;
* a path ending in `.npz`: numpy arrays `x_train`, `y_train` and optionally `x_valid` /
  `y_valid` (or `val`, `validation`), `x_test` / `y_test` and `class_names`;
* `tfds:NAME`: a prepared TFDS image-classification dataset (`tfds:fashion_mnist`,
  `tfds:oxford_flowers102`) with `data.train_split` / `valid_split` / `test_split` in TFDS's
  split syntax (`train[:90%]`); `data.tfds_data_dir` says where it is prepared. The older
  `tfds` plus `data.tfds_name` still works. The path of a prepared dataset's directory (the
  one with `dataset_info.json` and the TFRecord shards) is read the same way.

Data that would not fit in memory is not read here: `enas_tf.data.image_stream` streams it.

Every source returns `SourceSplits`: train, and valid / test when the source has them (else
`enas_tf.data.images` carves them from train). Sources that come in an arbitrary order (an
image folder is sorted by class) are put in a seeded, stratified order so that a carved split
draws from every class in proportion; CIFAR-10, the embedded set and the older `tfds` source
keep the original ENAS convention (validation = the last `num_valid` training images).
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from enas_tf.data import (
    cifar_files,
    embedded,
    image_arrays,
    image_folder,
    image_options,
    tfds_images,
)
from enas_tf.errors import DataError

_ORDER_SEED = 20180209  # a property of the data, not of the run seed
VALID_NAMES = image_folder.VALID_NAMES


@dataclasses.dataclass(frozen=True)
class SourceSplits:
    """Arrays of a source before carving; `valid` / `test` are None when the source lacks one."""

    train: tuple[np.ndarray, np.ndarray]
    valid: tuple[np.ndarray, np.ndarray] | None
    test: tuple[np.ndarray, np.ndarray] | None
    class_names: tuple[str, ...]
    shuffled: bool  # True: carve from a seeded order; False: the last examples (ENAS's split)


def load_source(data_config) -> SourceSplits:
    """Reads `data_config.source` (see the module docstring) at the config's channels and size.

    Raises:
      DataError: the source is missing, unreadable, or not image-classification data.
    """
    source = str(data_config.source).strip()
    size = image_options.parse_image_size(data_config.get("image_size", ""))
    options = dict(
        color_mode=str(data_config.get("color_mode", "auto")),
        size=size,
        resize_mode=str(data_config.get("resize_mode", "stretch")),
    )
    if source == "embedded":
        emb = data_config.embedded
        raw = embedded.make_embedded_dataset(
            num_train=int(emb.num_train),
            num_test=int(emb.num_test),
            image_size=int(emb.image_size),
            seed=int(emb.seed),
        )
        return _from_arrays(raw, shuffled=False, **options)
    if source == "tfds" or source.startswith("tfds:"):
        name = str(data_config.tfds_name) if source == "tfds" else source[len("tfds:") :]
        builder = tfds_images.open_builder(name, str(data_config.get("tfds_data_dir", "")))
        return _from_tfds(builder, data_config, shuffled=source != "tfds", **options)
    path = os.path.expanduser(source)
    if tfds_images.is_dataset_directory(path):
        builder = tfds_images.builder_from_directory(path)
        return _from_tfds(builder, data_config, shuffled=True, **options)
    if source.lower().endswith(".npz"):
        return _standardized(_load_npz(path), shuffled=True, **options)
    if not source or not os.path.isdir(path):
        raise DataError(
            f"data.source={source!r} is not 'embedded', 'tfds:NAME', an .npz file or an "
            "existing directory. Pass an image folder (one subfolder per class), a "
            "cifar-10-batches-py directory, a .npz with x_train/y_train, "
            "--config.data.source=tfds:NAME (a prepared TFDS dataset, with "
            "--config.data.tfds_data_dir=DIR), or --config.data.source=embedded."
        )
    if _is_cifar_dir(path):
        return _from_arrays(cifar_files.load_cifar10(path), shuffled=False, **options)
    return _load_folder(path, data_config, **options)


def _from_tfds(builder, data_config, *, shuffled: bool, **options) -> SourceSplits:
    splits = tfds_images.load_splits(
        builder,
        train=str(data_config.get("train_split", "train")),
        valid=str(data_config.get("valid_split", "")),
        test=str(data_config.get("test_split", "test")),
        size=options["size"],
    )
    return _standardized(splits, shuffled=shuffled, **options)


def _is_cifar_dir(path: str) -> bool:
    names = set(os.listdir(path))
    return bool({cifar_files.TEST_FILE, cifar_files.TRAIN_FILES[0], cifar_files.DIRNAME} & names)


def _from_arrays(raw, *, shuffled: bool, **options) -> SourceSplits:
    train_x, train_y, test_x, test_y, class_names = raw
    splits = dict(train=(train_x, train_y), valid=None, test=(test_x, test_y))
    return _standardized((splits, tuple(class_names)), shuffled=shuffled, **options)


def _standardized(loaded, *, shuffled: bool, color_mode, size, resize_mode) -> SourceSplits:
    """Applies channels, size and label checks to every split; shuffles train if asked."""
    splits, class_names = loaded
    if len(class_names) < 2:
        raise DataError(
            f"The data has {len(class_names)} class(es) ({', '.join(class_names) or 'none'}); "
            "a classifier needs at least 2."
        )
    out = {}
    channels = None
    for name in ("train", "valid", "test"):
        if splits.get(name) is None:
            out[name] = None
            continue
        images, labels = splits[name]
        images = image_arrays.to_uint8(image_arrays.with_channel_axis(images, name), name)
        if channels is None:  # every split takes the training set's channels
            channels = image_arrays.target_channels(color_mode, images.shape[-1])
        labels = image_arrays.check_labels(labels, len(images), len(class_names), f"{name} set")
        images = image_arrays.convert_channels(images, channels)
        images = image_arrays.resize_all(images, size, resize_mode)
        if name != "train" and images.shape[1:] != out["train"][0].shape[1:]:
            raise DataError(
                f"The {name} images have shape {images.shape[1:]} but the training images "
                f"{out['train'][0].shape[1:]}: set data.image_size to bring both to one size."
            )
        out[name] = (images, labels)
    if shuffled:
        order = stratified_order(out["train"][1])
        out["train"] = (out["train"][0][order], out["train"][1][order])
    return SourceSplits(
        out["train"], out["valid"], out["test"], tuple(class_names), shuffled=shuffled
    )


def stratified_order(labels: np.ndarray) -> np.ndarray:
    """A seeded order whose every tail holds each class in proportion to its size.

    Examples are shuffled with a fixed seed, then sorted by their fractional rank within their
    class, so "the last k" (how validation and test are carved) is stratified: a class of 6
    images among 37 keeps images in training however small the carve.
    """
    permuted = np.random.default_rng(_ORDER_SEED).permutation(len(labels))
    ranks = np.empty(len(labels), np.float64)
    counts = np.bincount(labels[permuted]) if len(labels) else np.zeros(0, np.int64)
    seen = np.zeros_like(counts)
    for position, index in enumerate(permuted):
        label = labels[index]
        ranks[position] = (seen[label] + 0.5) / counts[label]
        seen[label] += 1
    return permuted[np.argsort(ranks, kind="stable")]


def _load_npz(path: str):
    """({'train': (x, y), 'valid': ..., 'test': ...}, class_names) from an .npz file."""
    if not os.path.isfile(path):
        raise DataError(f"data.source={path!r}: no such .npz file.")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path} is not a readable .npz file: {e}") from e
    if "x_train" not in arrays or "y_train" not in arrays:
        raise DataError(
            f"{path} has arrays {sorted(arrays)}; it needs x_train and y_train (and optionally "
            "x_valid/y_valid, x_test/y_test, class_names), e.g. np.savez(path, x_train=images, "
            "y_train=labels)."
        )
    splits = {"train": (arrays["x_train"], arrays["y_train"]), "valid": None, "test": None}
    for split, names in (("valid", VALID_NAMES), ("test", ("test",))):
        for name in names:
            if f"x_{name}" in arrays:
                if f"y_{name}" not in arrays:
                    raise DataError(f"{path} has x_{name} but no y_{name}.")
                splits[split] = (arrays[f"x_{name}"], arrays[f"y_{name}"])
                break
    if "class_names" in arrays:
        class_names = tuple(str(n) for n in np.asarray(arrays["class_names"]).ravel())
    else:
        labels = [np.asarray(s[1]) for s in splits.values() if s is not None]
        top = max(int(lab.max()) if lab.size else -1 for lab in labels)
        class_names = tuple(str(i) for i in range(top + 1))
    return splits, class_names


def _load_folder(path: str, data_config, *, color_mode, size, resize_mode) -> SourceSplits:
    """An image folder: `train/` (+ `valid/`, `test/`) of class folders, or class folders."""
    split_dirs = image_folder.split_directories(
        path,
        train=str(data_config.get("train_split", "train")) or "train",
        valid=str(data_config.get("valid_split", "")),
        test=str(data_config.get("test_split", "test")),
    )
    listing = image_folder.list_images(split_dirs["train"])
    options = dict(color_mode=color_mode, size=size, resize_mode=resize_mode)
    arrays = {
        "train": image_folder.read_images(
            listing, what=f"training folder {split_dirs['train']}", **options
        )
    }
    for split in ("valid", "test"):
        arrays[split] = None
        if split_dirs[split] is not None:
            other = image_folder.list_images(split_dirs[split], listing.class_names)
            arrays[split] = image_folder.read_images(
                other, what=f"{split} folder {split_dirs[split]}", **options
            )
    # Channels were chosen per split by read_images; make them agree with train's.
    if color_mode == "auto":
        color_mode = {1: "grayscale", 3: "rgb"}[arrays["train"][0].shape[-1]]
    return _standardized(
        (arrays, listing.class_names),
        shuffled=True,
        color_mode=color_mode,
        size=None if size is None else size,
        resize_mode=resize_mode,
    )
