"""Tests for the python-pickle CIFAR-10 reader, on tiny fake batches written to tmp_path."""

import pickle

import ml_collections
import numpy as np
import pytest

from enas_tf.data import cifar_files
from enas_tf.data import images as image_data
from enas_tf.errors import DataError

PER_BATCH = 12
DOWNLOAD_HINT = "https://www.cs.toronto.edu/~kriz/cifar.html"


def _to_rows(images: np.ndarray) -> np.ndarray:
    """HWC uint8 images -> CIFAR rows (red plane, green plane, blue plane)."""
    return images.transpose(0, 3, 1, 2).reshape(len(images), -1)


def _dump(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def _write_fake_cifar(root, meta=True):
    """Writes a tiny cifar-10-batches-py; returns (directory, {file: (images, labels)})."""
    directory = root / "cifar-10-batches-py"
    directory.mkdir()
    rng = np.random.default_rng(0)
    contents = {}
    for name in cifar_files.TRAIN_FILES + (cifar_files.TEST_FILE,):
        images = rng.integers(0, 256, size=(PER_BATCH, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=PER_BATCH).tolist()
        _dump(
            directory / name,
            {b"batch_label": name.encode(), b"data": _to_rows(images), b"labels": labels},
        )
        contents[name] = (images, np.array(labels))
    if meta:
        names = [f"class_{i}".encode() for i in range(10)]
        _dump(directory / "batches.meta", {b"label_names": names, b"num_cases_per_batch": 12})
    return directory, contents


def test_reads_batches_in_hwc_order_with_meta_names(tmp_path):
    directory, contents = _write_fake_cifar(tmp_path)
    train_x, train_y, test_x, test_y, names = cifar_files.load_cifar10(str(directory))
    assert train_x.shape == (5 * PER_BATCH, 32, 32, 3) and train_x.dtype == np.uint8
    assert train_y.dtype == np.int32 and test_y.dtype == np.int32
    expected = np.concatenate([contents[n][0] for n in cifar_files.TRAIN_FILES])
    np.testing.assert_array_equal(train_x, expected)  # CHW rows decoded to HWC.
    np.testing.assert_array_equal(train_y[:PER_BATCH], contents["data_batch_1"][1])
    np.testing.assert_array_equal(test_x, contents["test_batch"][0])
    assert names == tuple(f"class_{i}" for i in range(10))


def test_accepts_the_parent_directory_and_defaults_class_names(tmp_path):
    _write_fake_cifar(tmp_path, meta=False)
    train_x, _, _, _, names = cifar_files.load_cifar10(str(tmp_path))
    assert len(train_x) == 5 * PER_BATCH
    assert names == image_data.CIFAR10_CLASS_NAMES


def test_load_image_splits_from_a_cifar_directory(tmp_path):
    directory, contents = _write_fake_cifar(tmp_path)
    config = ml_collections.ConfigDict(
        dict(
            source=str(directory),
            tfds_name="cifar10",
            tfds_data_dir="",
            num_valid=PER_BATCH,
            max_train_examples=0,
            embedded=dict(num_train=1, num_test=1, image_size=16, seed=0),
        )
    )
    splits = image_data.load_image_splits(config)
    assert len(splits.train_labels) == 4 * PER_BATCH
    np.testing.assert_array_equal(splits.valid_images, contents["data_batch_5"][0])  # The last.
    np.testing.assert_array_equal(splits.test_images, contents["test_batch"][0])
    assert splits.num_classes == 10


def test_missing_directory(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError, match="does not exist") as error:
        cifar_files.load_cifar10(str(missing))
    assert str(missing) in str(error.value) and DOWNLOAD_HINT in str(error.value)


def test_path_is_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(DataError, match="is not a directory"):
        cifar_files.load_cifar10(str(path))


def test_missing_files_are_listed(tmp_path):
    directory, _ = _write_fake_cifar(tmp_path)
    (directory / "data_batch_3").unlink()
    (directory / "test_batch").unlink()
    with pytest.raises(DataError, match="missing data_batch_3, test_batch") as error:
        cifar_files.load_cifar10(str(directory))
    assert str(directory) in str(error.value) and DOWNLOAD_HINT in str(error.value)
    assert "--config.data.source=/path/to/cifar-10-batches-py" in str(error.value)


def test_garbage_file_is_not_a_cifar_batch(tmp_path):
    directory, _ = _write_fake_cifar(tmp_path)
    (directory / "data_batch_2").write_bytes(b"<html>not a pickle</html>")
    with pytest.raises(DataError, match="is not a CIFAR-10 python batch") as error:
        cifar_files.load_cifar10(str(directory))
    assert "data_batch_2" in str(error.value) and DOWNLOAD_HINT in str(error.value)


@pytest.mark.parametrize(
    "payload",
    [
        {b"data": np.zeros((4, 100), np.uint8), b"labels": [0, 1, 2, 3]},  # Wrong row size.
        {b"data": np.zeros((4, 32, 32, 3), np.uint8), b"labels": [0, 1, 2, 3]},  # Not rows.
        {b"labels": [0]},  # No data.
        {"data": np.zeros((1, 3072), np.uint8), "labels": [0]},  # str keys.
        [1, 2, 3],  # Not a dict.
    ],
)
def test_wrong_content_names_the_expected_shape(tmp_path, payload):
    directory, _ = _write_fake_cifar(tmp_path)
    _dump(directory / "test_batch", payload)
    with pytest.raises(DataError, match=r"expected b'data' of shape \(N, 3072\)") as error:
        cifar_files.load_cifar10(str(directory))
    assert "test_batch" in str(error.value)


def test_label_count_mismatch(tmp_path):
    directory, _ = _write_fake_cifar(tmp_path)
    _dump(directory / "data_batch_1", {b"data": np.zeros((4, 3072), np.uint8), b"labels": [1]})
    with pytest.raises(DataError, match="4 rows but b'labels' has shape"):
        cifar_files.load_cifar10(str(directory))


def test_bad_meta_file(tmp_path):
    directory, _ = _write_fake_cifar(tmp_path)
    _dump(directory / "batches.meta", {b"something": 1})
    with pytest.raises(DataError, match="batches.meta"):
        cifar_files.load_cifar10(str(directory))
