"""Tests for enas_tf.config.workdir_config: a rerun keeps the keys its workdir fixed."""

import json

import pytest

from configs import tiny
from enas_tf.config import workdir_config
from enas_tf.errors import WorkdirError


def _saved(workdir, config, drop=()):
    saved = json.loads(config.to_json())
    for dotted in drop:
        section, key = dotted.split(".")
        del saved[section][key]
    (workdir / "config.json").write_text(json.dumps(saved))


def test_a_workdir_from_before_the_data_keys_resumes_with_their_defaults(tmp_path):
    config = tiny.get_config()
    _saved(tmp_path, config, drop=["data.color_mode", "data.image_size", "data.streaming"])
    workdir_config.check_workdir_config(config, str(tmp_path))  # no error


def test_a_new_key_set_away_from_the_old_behaviour_is_refused(tmp_path):
    config = tiny.get_config()
    _saved(tmp_path, config, drop=["data.image_size"])
    with config.unlocked():
        config.data.image_size = "8"
    with pytest.raises(WorkdirError, match=r"different config.data \(saved"):
        workdir_config.check_workdir_config(config, str(tmp_path))


def test_an_rnn_workdir_from_before_the_text_keys_resumes(tmp_path):
    config = tiny.get_config("space=rnn")
    _saved(tmp_path, config, drop=["data.vocab_size", "data.train_file"])
    workdir_config.check_workdir_config(config, str(tmp_path))
