"""Image folders: one subfolder per class, read like `keras.utils.image_dataset_from_directory`.

The conventions are Keras's, so a folder a user already feeds to Keras works here unchanged:
class names are the subfolder names sorted alphanumerically (label i = the i-th name), images
are the `.bmp`, `.gif`, `.jpeg`, `.jpg` and `.png` files anywhere below a class folder (other
files and hidden entries are ignored; a GIF contributes its first frame), and symbolic links are
followed. A dataset is either one such folder (validation and test are then carved from it) or
a folder with `train/` and optionally `valid/` (or `validation/`, `val/`) and `test/`, each
holding the same class subfolders (`enas_tf.data.image_sources` decides which).

Unreadable files follow one rule, stated in the README: a file that cannot be decoded is
skipped with a warning naming it, unless more than 1% of a split's files are unreadable (in a
folder of fewer than 100 images: any), which stops the run with the first names, because then
the folder is probably not what the user meant.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os

import numpy as np
import tensorflow as tf
from absl import logging

from enas_tf.data import image_arrays
from enas_tf.errors import DataError

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
VALID_NAMES = ("valid", "validation", "val")
_MAX_BAD_FRACTION = 0.01
_NAMED_IN_MESSAGES = 5


@dataclasses.dataclass(frozen=True)
class FolderListing:
    """The image files of a class folder and their labels, in a fixed (sorted) order."""

    paths: tuple[str, ...]
    labels: np.ndarray
    class_names: tuple[str, ...]


def class_subfolders(directory: str) -> list[str]:
    """Sorted names of the non-hidden subfolders of `directory`."""
    return sorted(
        name
        for name in os.listdir(directory)
        if not name.startswith(".") and os.path.isdir(os.path.join(directory, name))
    )


def split_directories(path: str, *, train: str, valid: str, test: str) -> dict:
    """{'train': dir, 'valid': dir or None, 'test': dir or None} of an image folder.

    A folder with a `train` subfolder (the name is `data.train_split`) holds split folders:
    `valid` is `data.valid_split` if set, else the first of `valid/`, `validation/`, `val/`
    present; `test` is `data.test_split` if present. Otherwise the folder itself is the
    training split of class folders (validation and test are then carved).

    Raises:
      DataError: `data.valid_split` names a subfolder that does not exist.
    """
    names = class_subfolders(path)
    dirs = {"train": path, "valid": None, "test": None}
    if train not in names:
        return dirs
    dirs["train"] = os.path.join(path, train)
    for name in (valid,) if valid else VALID_NAMES:
        if name in names:
            dirs["valid"] = os.path.join(path, name)
            break
    else:
        if valid:
            raise DataError(
                f"data.valid_split={valid!r}: {path} has no such subfolder (it has "
                f"{', '.join(names)})."
            )
    if test and test in names:
        dirs["test"] = os.path.join(path, test)
    return dirs


def list_images(directory: str, class_names: tuple[str, ...] | None = None) -> FolderListing:
    """Lists a class folder; `class_names` (the training split's) fixes the labels of others.

    Raises:
      DataError: no class subfolders, fewer than 2 classes, a class without images, or a
        validation/test class that the training folder does not have.
    """
    if not os.path.isdir(directory):
        raise DataError(f"Image folder {directory} does not exist or is not a directory.")
    names = class_subfolders(directory)
    if not names:
        loose = _images_below(directory)
        hint = f" ({len(loose)} images lie directly in it)" if loose else " and no images at all"
        raise DataError(
            f"Image folder {directory} has no class subfolders{hint}: put each class's images "
            "in its own subfolder (cats/, dogs/, ...), as keras.utils.image_dataset_from_directory "
            "expects."
        )
    if class_names is None:
        class_names = tuple(names)
        if len(class_names) < 2:
            raise DataError(
                f"Image folder {directory} has one class ({class_names[0]!r}); a classifier "
                "needs at least 2 class subfolders."
            )
    else:
        unknown = sorted(set(names) - set(class_names))
        if unknown:
            raise DataError(
                f"Image folder {directory} has class folder(s) {', '.join(map(repr, unknown))} "
                "that the training folder does not have; the classes are the training "
                "folder's subfolders."
            )
    paths, labels = [], []
    for label, name in enumerate(class_names):
        if name not in names:
            continue
        files = _images_below(os.path.join(directory, name))
        if not files:
            raise DataError(
                f"Class folder {os.path.join(directory, name)} has no images (looked for "
                f"{', '.join(IMAGE_EXTENSIONS)} files); remove it or add its images."
            )
        paths.extend(files)
        labels.extend([label] * len(files))
    return FolderListing(tuple(paths), np.asarray(labels, np.int32), tuple(class_names))


def _images_below(directory: str) -> list[str]:
    """Image files anywhere below `directory` (links followed), sorted, hidden ones skipped."""
    found = []
    for root, dirs, files in os.walk(directory, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            os.path.join(root, f)
            for f in sorted(files)
            if not f.startswith(".") and f.lower().endswith(IMAGE_EXTENSIONS)
        )
    return found


def _decode(path: str) -> np.ndarray | str:
    """The image at `path` as uint8 [H, W, C] (its own channels), or the reason it failed."""
    try:
        with open(path, "rb") as f:
            contents = f.read()
        image = tf.io.decode_image(contents, channels=0, expand_animations=False)
        return image.numpy()
    except (OSError, tf.errors.OpError) as e:
        return getattr(e, "message", None) or str(e) or type(e).__name__


def readable(listing: FolderListing, what: str) -> FolderListing:
    """The listing without the files that cannot be decoded, by the module's 1% rule.

    Decodes every file once and keeps nothing but the verdict, in chunks, so a folder far
    larger than memory is checked in bounded memory (`enas_tf.data.write_shards`).
    """
    keep, bad = [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for start in range(0, len(listing.paths), 1024):
            chunk = listing.paths[start : start + 1024]
            for offset, result in enumerate(pool.map(_decode, chunk)):
                if isinstance(result, str):
                    bad.append((chunk[offset], result))
                else:
                    keep.append(start + offset)
    _apply_bad_file_rule(bad, len(listing.paths), what)
    return FolderListing(
        tuple(listing.paths[i] for i in keep), listing.labels[keep], listing.class_names
    )


def read_images(
    listing: FolderListing, *, color_mode: str, size, resize_mode: str, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """Decodes every listed file into uint8 [N, H, W, C] and int32 [N] labels.

    Args:
      listing: the files and labels (`list_images`).
      color_mode: `data.color_mode`; `auto` is grayscale if every file is, else RGB (an
        alpha channel is kept only with `rgba`).
      size: (height, width), or None to keep the files' size (they must all share it).
      resize_mode: `data.resize_mode`.
      what: the split's name for messages ("training folder data/train").

    Raises:
      DataError: too many unreadable files (by the module's rule), or images of several
        sizes with no `data.image_size`.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        decoded = list(pool.map(_decode, listing.paths))
    bad = [(p, r) for p, r in zip(listing.paths, decoded, strict=True) if isinstance(r, str)]
    _apply_bad_file_rule(bad, len(listing.paths), what)
    keep = [i for i, r in enumerate(decoded) if not isinstance(r, str)]
    images = [decoded[i] for i in keep]
    labels = listing.labels[keep]
    natives = {image.shape[-1] for image in images}
    if color_mode == "auto":
        channels = 1 if natives <= {1, 2} else 3
    else:
        channels = image_arrays.target_channels(color_mode, 3)
    if size is None:
        shapes = sorted({image.shape[:2] for image in images})
        if len(shapes) > 1:
            raise DataError(
                f"The {what} has images of {len(shapes)} sizes ({shapes[0][0]}x{shapes[0][1]} "
                f"to {shapes[-1][0]}x{shapes[-1][1]}): set data.image_size (e.g. "
                "--config.data.image_size=32, or HEIGHTxWIDTH) to bring them to one size."
            )
    out = None
    for row, image in enumerate(images):
        image = image_arrays.convert_channels(image[np.newaxis], channels)[0]
        if size is not None:
            image = np.round(image_arrays.resize_one(image, size, resize_mode).numpy())
        if out is None:
            out = np.empty((len(images), *image.shape), np.uint8)
        out[row] = image
    return out, labels


def _apply_bad_file_rule(bad: list[tuple[str, str]], total: int, what: str) -> None:
    """Warns about skipped files, or stops when more than 1% of the split is unreadable."""
    if not bad:
        return
    named = "; ".join(f"{path}: {reason}" for path, reason in bad[:_NAMED_IN_MESSAGES])
    more = f" (and {len(bad) - _NAMED_IN_MESSAGES} more)" if len(bad) > _NAMED_IN_MESSAGES else ""
    if len(bad) > int(_MAX_BAD_FRACTION * total) or len(bad) == total:
        raise DataError(
            f"The {what} has {len(bad)} unreadable image file(s) of {total}, more than the 1% "
            f"that is skipped: {named}{more}. Remove or re-save them."
        )
    for path, reason in bad:
        logging.warning("Skipping unreadable image %s (%s).", path, reason)
    logging.warning(
        "The %s: skipped %d unreadable file(s) of %d (at most 1%% is skipped).",
        what,
        len(bad),
        total,
    )
