"""Tests for enas_tf.data.example_folder: the embedded images as a folder users would bring."""

import os
import subprocess
import sys

from enas_tf import config as config_lib
from enas_tf.data import example_folder
from enas_tf.data import images as image_data

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_folder_reads_back_as_the_embedded_dataset(tmp_path):
    root = example_folder.write_example_folder(str(tmp_path / "shapes"), 60, 20, 12)
    assert sorted(os.listdir(root)) == ["test", "train"]
    data = config_lib.base_config().data
    data.update(dict(source=root, valid_fraction=0.2))
    splits = image_data.load_image_splits(data)
    assert splits.num_classes == 10 and len(splits.test_labels) == 20
    assert splits.num_train + splits.num_valid == 60 and splits.image_shape == (12, 12, 3)
    assert splits.class_names == tuple(sorted(splits.class_names))


def test_the_command_refuses_a_directory_that_is_not_empty(tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    result = subprocess.run(
        [sys.executable, "-m", "enas_tf.data.example_folder", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 1 and "exists and is not empty" in result.stderr
    assert os.listdir(tmp_path) == ["mine.txt"]
