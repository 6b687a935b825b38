"""Tests for enas_tf.data.image_sources (and the splits images.py carves from them).

Every data set is written by the test itself: image folders of PNG/JPEG files, .npz archives
and a TFDS dataset prepared with `tfds.dataset_builders.store_as_tfds_dataset`.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from enas_tf import config as config_lib
from enas_tf.data import image_sources
from enas_tf.data import images as image_data
from enas_tf.errors import DataError


def _data(source, **overrides):
    data = config_lib.base_config().data
    data.source = str(source)
    data.update(overrides)
    return data


def _splits(source, **overrides):
    return image_data.load_image_splits(_data(source, **overrides))


# ------------------------------------------------------------------------------ folders


def test_a_grayscale_folder_keeps_one_channel_sorted_class_names_and_stratified_carves(
    tmp_path, write_image_folder
):
    root = write_image_folder(
        tmp_path / "shapes",
        ["tri", "circle", "square"],
        height=28,
        width=28,
        channels=1,
        per_class=20,
    )
    splits = _splits(root, valid_fraction=0.2, test_fraction=0.25)
    assert splits.class_names == ("circle", "square", "tri")
    assert splits.train_images.shape[1:] == (28, 28, 1)
    assert len(splits.channel_mean) == len(splits.channel_std) == 1
    assert len(splits.test_labels) == 15 and len(splits.valid_labels) == 9
    assert len(splits.train_labels) == 60 - 15 - 9
    for labels in (splits.train_labels, splits.valid_labels, splits.test_labels):
        counts = np.bincount(labels, minlength=3)
        assert counts.max() - counts.min() <= 1, counts  # stratified


def test_the_carved_order_keeps_every_class_of_a_small_folder_in_training():
    labels = np.repeat(np.arange(37), 6)
    order = image_sources.stratified_order(labels)
    assert sorted(order) == list(range(len(labels)))
    kept = labels[order][: len(labels) - 80]  # the head stays train after carving 80
    assert set(kept) == set(range(37))


def test_train_valid_test_folders_are_used_as_they_are(tmp_path, write_image_folder):
    for split, count in (("train", 6), ("validation", 2), ("test", 3)):
        write_image_folder(
            tmp_path / "data" / split, ["b", "a"], height=16, width=20, per_class=count
        )
    splits = _splits(tmp_path / "data")
    assert (len(splits.train_labels), len(splits.valid_labels), len(splits.test_labels)) == (
        12,
        4,
        6,
    )
    assert splits.train_images.shape[1:] == (16, 20, 3) and splits.class_names == ("a", "b")


def test_a_test_class_the_training_folder_lacks_is_named(tmp_path, write_image_folder):
    write_image_folder(tmp_path / "d" / "train", ["a", "b"], height=8, width=8)
    write_image_folder(tmp_path / "d" / "test", ["a", "zebra"], height=8, width=8)
    with pytest.raises(DataError, match="'zebra'.*training folder does not have"):
        _splits(tmp_path / "d", valid_fraction=0.25)


def test_mixed_sizes_need_an_image_size_which_resizes_by_the_chosen_mode(
    tmp_path, write_image_folder
):
    root = write_image_folder(tmp_path / "m", ["a", "b"], height=30, width=40, per_class=3)
    write_image_folder(tmp_path / "m", ["a", "b"], height=20, width=20, per_class=1, seed=1)
    with pytest.raises(DataError, match=r"2 sizes \(20x20 to 30x40\).*data.image_size"):
        _splits(root, valid_fraction=0.25, test_fraction=0.25)
    for mode in ("stretch", "crop", "pad"):
        splits = _splits(
            root, valid_fraction=0.25, test_fraction=0.25, image_size="24x32", resize_mode=mode
        )
        assert splits.train_images.shape[1:] == (24, 32, 3), mode


@pytest.mark.parametrize("mode,channels", [("auto", 3), ("rgba", 4), ("grayscale", 1)])
def test_rgba_images_follow_the_color_mode(tmp_path, write_image_folder, mode, channels):
    root = write_image_folder(tmp_path / "r", ["a", "b"], height=8, width=8, channels=4)
    splits = _splits(root, valid_fraction=0.25, test_fraction=0.25, color_mode=mode)
    assert splits.train_images.shape[-1] == channels


@pytest.mark.parametrize(
    "layout,message",
    [
        ({}, "has no class subfolders and no images at all"),
        ({"loose.png": None}, r"no class subfolders \(1 images lie directly in it\)"),
        ({"only/x.png": None}, "has one class \\('only'\\)"),
        ({"a/x.png": None, "b/readme.txt": None}, r"Class folder .*b has no images"),
    ],
)
def test_folders_that_are_not_a_dataset_get_one_line(tmp_path, layout, message):
    png = tf.io.encode_png(np.zeros((4, 4, 3), np.uint8)).numpy()
    root = tmp_path / "folder"
    root.mkdir()
    for name in layout:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(png if name.endswith(".png") else b"text")
    with pytest.raises(DataError, match=message):
        _splits(root, valid_fraction=0.25, test_fraction=0.25)


def test_a_corrupt_file_in_a_small_folder_stops_the_run_naming_it(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "c", ["a", "b"], height=8, width=8, per_class=10)
    bad = os.path.join(root, "b", "broken.jpg")
    with open(bad, "wb") as f:
        f.write(b"\xff\xd8 not really a jpeg")
    with pytest.raises(DataError, match=f"1 unreadable image file.*of 21.*{bad}"):
        _splits(root, valid_fraction=0.25, test_fraction=0.25)


def test_one_corrupt_file_in_a_hundred_and_more_is_skipped_with_a_warning(
    tmp_path, write_image_folder, caplog
):
    root = write_image_folder(tmp_path / "c", ["a", "b"], height=8, width=8, per_class=60)
    bad = os.path.join(root, "a", "zz_truncated.png")
    with open(bad, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
    splits = _splits(root, valid_fraction=0.25, test_fraction=0.25)
    assert (
        sum(len(x) for x in (splits.train_labels, splits.valid_labels, splits.test_labels)) == 120
    )
    assert any(bad in record.getMessage() for record in caplog.records)


def test_a_source_without_a_test_split_says_how_to_get_one(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "n", ["a", "b"], height=8, width=8)
    with pytest.raises(DataError, match="no test split.*data.test_fraction=0.1"):
        _splits(root, valid_fraction=0.25)


# ---------------------------------------------------------------------------------- npz


def test_an_npz_of_grayscale_arrays_with_class_names(tmp_path, class_images):
    x, y = class_images(40, 4, 28, 28, channels=1)
    tx, ty = class_images(12, 4, 28, 28, channels=1, seed=1)
    path = tmp_path / "digits.npz"
    np.savez(
        path,
        x_train=x[..., 0],
        y_train=y,
        x_test=tx,
        y_test=ty.reshape(-1, 1),
        class_names=np.array(["w", "x", "y", "z"]),
    )
    splits = _splits(path, num_valid=8)
    assert splits.train_images.shape == (32, 28, 28, 1) and splits.test_images.shape[0] == 12
    assert splits.class_names == ("w", "x", "y", "z")


def test_npz_float_pixels_in_0_1_and_its_own_valid_split(tmp_path, class_images):
    x, y = class_images(20, 2, 6, 6)
    path = tmp_path / "f.npz"
    np.savez(path, x_train=x / 255.0, y_train=y, x_val=x[:4], y_val=y[:4], x_test=x, y_test=y)
    splits = _splits(path)
    assert len(splits.valid_labels) == 4 and len(splits.train_labels) == 20
    assert splits.train_images.dtype == np.uint8 and splits.class_names == ("0", "1")


@pytest.mark.parametrize(
    "arrays,message",
    [
        (dict(x=np.zeros((2, 4, 4, 3))), r"has arrays \['x'\]; it needs x_train and y_train"),
        (
            dict(
                x_train=np.zeros((4, 4, 4, 3)),
                y_train=[0, 1, 5, 1],
                x_test=np.zeros((1, 4, 4, 3)),
                y_test=[0],
                class_names=["a", "b"],
            ),
            r"label 5 at index 2.*0..1 for 2 classes",
        ),
        (dict(x_train=np.zeros((4, 4, 4, 3)), y_train=[0, 1, 1]), "4 images but labels of shape"),
        (dict(x_train=np.zeros((4, 4, 4, 7)), y_train=[0, 1, 1, 0]), r"expected \[N, H, W\]"),
        (dict(x_train=np.full((4, 4, 4, 3), 300.0), y_train=[0, 1, 1, 0]), r"in \[300, 300\]"),
    ],
)
def test_bad_npz_contents_get_one_line(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message):
        _splits(path, num_valid=1, test_fraction=0.25)


def test_a_missing_or_damaged_npz_is_named(tmp_path):
    with pytest.raises(DataError, match="no such .npz file"):
        _splits(tmp_path / "none.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="junk.npz is not a readable .npz file"):
        _splits(tmp_path / "junk.npz")


# --------------------------------------------------------------------------------- TFDS


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory, write_tfds_dataset):
    """A prepared TFDS dataset 'enas_test_gray' (28x28x1, 3 classes) in its own data_dir."""
    data_dir = tmp_path_factory.mktemp("tfds")
    write_tfds_dataset(
        data_dir,
        "enas_test_gray",
        ["one", "two", "three"],
        height=28,
        width=28,
        channels=1,
        num_train=50,
        num_test=10,
    )
    return str(data_dir)


def test_a_tfds_dataset_by_name_with_sliced_splits(tfds_dir):
    splits = _splits(
        "tfds:enas_test_gray",
        tfds_data_dir=tfds_dir,
        train_split="train[:80%]",
        valid_split="train[80%:]",
    )
    assert splits.train_images.shape == (40, 28, 28, 1)
    assert len(splits.valid_labels) == 10 and len(splits.test_labels) == 10
    assert splits.class_names == ("one", "two", "three")


def test_a_tfds_dataset_resized_and_made_rgb(tfds_dir):
    splits = _splits(
        "tfds:enas_test_gray",
        tfds_data_dir=tfds_dir,
        num_valid=10,
        image_size="16",
        color_mode="rgb",
    )
    assert splits.train_images.shape == (40, 16, 16, 3)


@pytest.mark.parametrize(
    "source,overrides,message",
    [
        ("tfds:no_such_dataset", {}, "TFDS dataset 'no_such_dataset': could not read it"),
        ("tfds:enas_test_gray", {"test_split": "holdout"}, "has no split 'holdout'"),
    ],
)
def test_unknown_tfds_names_and_splits_get_one_line(tfds_dir, source, overrides, message):
    with pytest.raises(DataError, match=message):
        _splits(source, tfds_data_dir=tfds_dir, **overrides)
