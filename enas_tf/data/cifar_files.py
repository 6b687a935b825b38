"""Reader for the python-pickle CIFAR-10 release (`cifar-10-batches-py`).

This is the format the original ENAS code read, and the easiest one to carry to an offline
machine: one tarball, no TFDS preparation step. Each of `data_batch_1..5` and `test_batch` is a
pickle (protocol 2, byte-string keys) of a dict with b'data' (uint8 [10000, 3072], each row the
red, green then blue 32x32 planes) and b'labels' (10000 ints). The optional `batches.meta` holds
b'label_names'. Every problem is a `DataError` naming the path, what is wrong, and how to get the
data.
"""

from __future__ import annotations

import os
import pickle

import numpy as np

from enas_tf.errors import DataError

CIFAR10_CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

DIRNAME = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
_IMAGE_SIZE = 32
_ROW_SIZE = 3 * _IMAGE_SIZE * _IMAGE_SIZE  # 3072

HOW_TO_GET = (
    "Download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, "
    "extract it (tar xzf cifar-10-python.tar.gz), and pass "
    "--config.data.source=/path/to/cifar-10-batches-py."
)


def find_batches_dir(path: str) -> str:
    """Returns the `cifar-10-batches-py` directory: `path` itself or its child of that name.

    Raises:
      DataError: `path` does not exist or is not a directory.
    """
    path = os.path.expanduser(path)
    if not os.path.isdir(path):
        what = "is not a directory" if os.path.exists(path) else "does not exist"
        raise DataError(f"CIFAR-10 directory {path!r} {what}. {HOW_TO_GET}")
    child = os.path.join(path, DIRNAME)
    if not os.path.exists(os.path.join(path, TEST_FILE)) and os.path.isdir(child):
        return child
    return path


def load_cifar10(path: str):
    """Reads the five training batches and the test batch.

    Args:
      path: a `cifar-10-batches-py` directory, or a directory containing one.

    Returns:
      (train_x uint8 [50000, 32, 32, 3], train_y int32 [50000], test_x, test_y, class_names).

    Raises:
      DataError: the directory or files are missing, or a file is not a CIFAR-10 batch.
    """
    directory = find_batches_dir(path)
    needed = TRAIN_FILES + (TEST_FILE,)
    missing = [name for name in needed if not os.path.isfile(os.path.join(directory, name))]
    if missing:
        raise DataError(
            f"CIFAR-10 directory {directory!r} is missing {', '.join(missing)} "
            f"(expected {', '.join(needed)}). {HOW_TO_GET}"
        )
    train = [read_batch(os.path.join(directory, name)) for name in TRAIN_FILES]
    test_x, test_y = read_batch(os.path.join(directory, TEST_FILE))
    train_x = np.concatenate([x for x, _ in train])
    train_y = np.concatenate([y for _, y in train])
    class_names = read_class_names(os.path.join(directory, META_FILE))
    if max(int(train_y.max()), int(test_y.max())) >= len(class_names):
        raise DataError(
            f"CIFAR-10 labels in {directory!r} go up to {max(train_y.max(), test_y.max())} but "
            f"there are {len(class_names)} class names. {HOW_TO_GET}"
        )
    return train_x, train_y, test_x, test_y, class_names


def read_batch(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Reads one batch file into (uint8 [N, 32, 32, 3] HWC images, int32 [N] labels)."""
    batch = _unpickle(path)
    data = batch.get(b"data") if isinstance(batch, dict) else None
    labels = batch.get(b"labels") if isinstance(batch, dict) else None
    data = None if data is None else np.asarray(data)
    if data is None or data.ndim != 2 or data.shape[1] != _ROW_SIZE or labels is None:
        found = (
            f"a {type(batch).__name__}"
            if not isinstance(batch, dict)
            else f"keys {sorted(batch)}, b'data' shape {None if data is None else data.shape}"
        )
        raise DataError(
            f"{path!r} is not a CIFAR-10 python batch: expected b'data' of shape (N, "
            f"{_ROW_SIZE}) and b'labels' of length N, found {found}. {HOW_TO_GET}"
        )
    labels = np.asarray(labels)
    if labels.shape != (data.shape[0],):
        raise DataError(
            f"{path!r} is not a CIFAR-10 python batch: b'data' has {data.shape[0]} rows but "
            f"b'labels' has shape {labels.shape}. {HOW_TO_GET}"
        )
    if data.dtype != np.uint8 and (data.min(initial=0) < 0 or data.max(initial=0) > 255):
        raise DataError(f"{path!r}: pixel values outside 0..255. {HOW_TO_GET}")
    if labels.size and labels.min() < 0:
        raise DataError(f"{path!r}: negative labels. {HOW_TO_GET}")
    images = data.astype(np.uint8).reshape(-1, 3, _IMAGE_SIZE, _IMAGE_SIZE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int32)


def read_class_names(path: str) -> tuple[str, ...]:
    """Class names from `batches.meta`, or the standard CIFAR-10 names if it is absent."""
    if not os.path.isfile(path):
        return CIFAR10_CLASS_NAMES
    meta = _unpickle(path)
    names = meta.get(b"label_names") if isinstance(meta, dict) else None
    if not names:
        raise DataError(
            f"{path!r} is not a CIFAR-10 batches.meta: expected a dict with b'label_names'. "
            f"Delete it to use the standard class names, or re-extract the archive. {HOW_TO_GET}"
        )
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def _unpickle(path: str):
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="bytes")
    except OSError as e:
        raise DataError(f"Cannot read {path!r}: {e}. {HOW_TO_GET}") from e
    except Exception as e:  # Unpickling garbage raises many types (UnpicklingError, EOFError...).
        raise DataError(
            f"{path!r} is not a CIFAR-10 python batch (cannot unpickle it: {e!r}). {HOW_TO_GET}"
        ) from e
