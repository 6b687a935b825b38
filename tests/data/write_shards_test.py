"""Tests for enas_tf.data.write_shards: an image folder written as shards a search streams."""

import glob
import os

import numpy as np
import pytest

from enas_tf import config as config_lib
from enas_tf.data import image_stream, write_shards
from enas_tf.errors import DataError


def test_a_folder_becomes_shards_that_stream_with_its_class_names(tmp_path, write_image_folder):
    root = tmp_path / "photos"
    write_image_folder(root / "train", ["cat", "dog"], height=20, width=30, per_class=55)
    write_image_folder(root / "test", ["cat", "dog"], height=40, width=40, per_class=5, seed=1)
    broken = root / "train" / "dog" / "zz_broken.jpg"
    broken.write_bytes(b"\xff\xd8 not a jpeg")  # 1 of 111: skipped with a warning
    path = write_shards.write_shards(str(root), str(tmp_path / "tfds"), "photos", num_shards=2)
    assert len(glob.glob(os.path.join(path, "photos-train.tfrecord-*"))) == 2
    data = config_lib.base_config().data
    data.update(dict(source=path, streaming="on", num_valid=10, image_size="16x24"))
    splits = image_stream.open_stream(data)
    assert (splits.num_train, splits.num_valid, splits.num_test) == (100, 10, 10)
    assert splits.class_names == ("cat", "dog") and splits.image_shape == (16, 24, 3)
    batch = next(iter(image_stream.eval_batches(splits, "test", batch_size=10)))
    assert batch[0].shape == (10, 16, 24, 3) and sorted(np.bincount(batch[1])) == [5, 5]


def test_a_folder_the_rule_refuses_writes_nothing(tmp_path, write_image_folder):
    root = write_image_folder(tmp_path / "small", ["a", "b"], height=8, width=8, per_class=5)
    with open(os.path.join(root, "a", "bad.png"), "wb") as f:
        f.write(b"not an image")
    with pytest.raises(DataError, match="1 unreadable image file.*bad.png"):
        write_shards.write_shards(root, str(tmp_path / "out"), "small")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["", "9lives", "my-set"])
def test_bad_names_are_refused(tmp_path, name):
    with pytest.raises(DataError, match="--name="):
        write_shards.write_shards(str(tmp_path), str(tmp_path / "out"), name)
