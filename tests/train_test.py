"""Tests of the command line (`python -m enas_tf.train`) that need no training."""

import os
import subprocess
import sys

from enas_tf import train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "enas_tf.train", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_unknown_override_key_is_a_one_line_error_that_names_the_flag(tmp_path):
    workdir = tmp_path / "run"
    result = _run_cli("--config=configs/tiny.py", "--config.search.epoch=3", f"--workdir={workdir}")
    assert result.returncode == 1
    assert "--config.search.epoch: the config has no key 'epoch'" in result.stderr
    assert 'Did you mean "epochs"' in result.stderr
    assert "Traceback" not in result.stderr
    assert not workdir.exists()


def test_default_workdir_is_named_after_the_config_and_its_arguments():
    assert train.default_workdir("configs/quickstart.py") == os.path.join("runs", "quickstart")
    assert train.default_workdir("configs/cifar10_micro.py:phase=final,runlocal") == os.path.join(
        "runs", "cifar10_micro_phase-final_runlocal"
    )
