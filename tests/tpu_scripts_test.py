"""Tests of the tpu/ scripts without a TPU: syntax, usage, README agreement, and what they run.

`gcloud` and the VM's `python` are replaced by stand-ins that record their arguments, so these
tests check the commands the scripts build and run.sh's background/lock/backup logic; nothing
here proves that the commands work on Google Cloud (see tpu/README.md).
"""

import glob
import os
import re
import signal
import subprocess
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TPU_DIR = os.path.join(REPO, "tpu")
SCRIPTS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(TPU_DIR, "*.sh")))

# Records each call (arguments ended by \x1f, calls by \x1e); `gcloud storage ls` finds nothing
# unless $HOME/backup_exists exists.
FAKE_GCLOUD = """#!/usr/bin/env bash
{ printf '%s\\x1f' "$@"; printf '\\x1e'; } >> "$HOME/gcloud_calls.txt"
if [[ "$1 $2" == "storage ls" && ! -e "$HOME/backup_exists" ]]; then exit 1; fi
exit 0
"""
# Records its arguments; while $HOME/hold exists it waits (at most 60 s), like a long run.
FAKE_PYTHON = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$HOME/python_args.txt"
for _ in $(seq 600); do [[ -e "$HOME/hold" ]] || exit 0; sleep 0.1; done
exit 3
"""


def test_there_are_the_four_scripts():
    assert SCRIPTS == ["create_vm.sh", "run.sh", "setup_vm.sh", "tensorboard.sh"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_is_valid_strict_bash(script):
    path = os.path.join(TPU_DIR, script)
    result = subprocess.run(["bash", "-n", path], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with open(path) as f:
        text = f.read()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert os.access(path, os.X_OK), f"chmod +x tpu/{script}"


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_prints_its_usage_on_h(script, tmp_path):
    result = subprocess.run(
        ["bash", os.path.join(TPU_DIR, script), "-h"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PATH": _fake_bin(tmp_path) + os.pathsep + os.environ["PATH"]},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ")
    assert not (tmp_path / "gcloud_calls.txt").exists()


def test_readme_names_exactly_the_scripts():
    with open(os.path.join(TPU_DIR, "README.md")) as f:
        named = set(re.findall(r"tpu/([\w-]+\.sh)", f.read()))
    assert named == set(SCRIPTS)


def _fake_bin(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, text in (("gcloud", FAKE_GCLOUD), ("fake_python", FAKE_PYTHON)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return str(bin_dir)


def _run_script(script, tmp_path, *args, tpu_dir=TPU_DIR, **env):
    full_env = {
        **os.environ,
        "HOME": str(tmp_path),
        "PATH": _fake_bin(tmp_path) + os.pathsep + os.environ["PATH"],
        "PYTHON": str(tmp_path / "bin" / "fake_python"),
        **env,
    }
    return subprocess.run(
        ["bash", os.path.join(tpu_dir, script), *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _gcloud_calls(tmp_path):
    path = tmp_path / "gcloud_calls.txt"
    if not path.exists():
        return []
    return [call.split("\x1f")[:-1] for call in path.read_text().split("\x1e")[:-1]]


def test_create_vm_passes_the_settings_to_gcloud(tmp_path):
    result = _run_script(
        "create_vm.sh",
        tmp_path,
        TPU_NAME="t1",
        ZONE="zone-a",
        ACCELERATOR_TYPE="v4-8",
        RUNTIME_VERSION="tpu-vm-tf-9.9.9-pjrt",
        PROJECT="proj",
        SPOT="1",
    )
    assert result.returncode == 0, result.stderr
    assert _gcloud_calls(tmp_path) == [
        "compute tpus tpu-vm create t1".split()
        + [
            "--zone=zone-a",
            "--accelerator-type=v4-8",
            "--version=tpu-vm-tf-9.9.9-pjrt",
            "--project=proj",
            "--spot",
        ]
    ]


def _clone_of_tpu_scripts(root):
    """A one-commit git repository holding tpu/ (the checkout under test may not be a clone)."""
    repo = root / "repo"
    (repo / "tpu").mkdir(parents=True)
    for script in SCRIPTS:
        (repo / "tpu" / script).write_bytes(open(os.path.join(TPU_DIR, script), "rb").read())
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "tpu"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "scripts"], check=True)
    return repo


def test_setup_vm_copies_the_repository_and_runs_its_vm_half(tmp_path):
    repo = _clone_of_tpu_scripts(tmp_path)
    result = _run_script(
        "setup_vm.sh", tmp_path, tpu_dir=str(repo / "tpu"), TPU_NAME="t1", ZONE="zone-a"
    )
    assert result.returncode == 0, result.stderr
    scp, ssh = _gcloud_calls(tmp_path)
    assert scp[:4] == "compute tpus tpu-vm scp".split()
    assert scp[4].endswith("/enas_tf.tar.gz") and scp[5:] == ["t1:enas_tf.tar.gz", "--zone=zone-a"]
    assert ssh[:6] == "compute tpus tpu-vm ssh t1 --zone=zone-a".split()
    assert ssh[6].startswith("--command=")
    assert "tar -xzf ~/enas_tf.tar.gz -C ~/enas_tf" in ssh[6]
    assert "bash ~/enas_tf/tpu/setup_vm.sh --on-vm" in ssh[6]


def test_tensorboard_forwards_its_port(tmp_path):
    result = _run_script("tensorboard.sh", tmp_path, LOGDIR="gs://b/enas", PORT="6123")
    assert result.returncode == 0, result.stderr
    assert _gcloud_calls(tmp_path) == [
        "compute tpus tpu-vm ssh enas-tpu --zone=us-central1-a".split()
        + [
            "--ssh-flag=-L 6123:localhost:6123",
            "--command=python3 -m tensorboard.main --logdir=gs://b/enas --port=6123",
        ]
    ]


def _wait_for_exit_line(log, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log.exists() and "exit status" in log.read_text():
            return log.read_text()
        time.sleep(0.1)
    raise AssertionError(f"run.sh did not finish; log:\n{log.read_text() if log.exists() else ''}")


def _kill_leftover_run(tmp_path):
    lock = tmp_path / ".enas_tf_tpu_run"
    if lock.exists():
        try:
            os.kill(int(lock.read_text().split()[0]), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass


def test_run_starts_in_the_background_refuses_a_second_run_and_stops_on_kill(tmp_path):
    (tmp_path / "hold").touch()
    workdir = tmp_path / "enas_runs" / "cifar10_micro_phase-final"
    log = tmp_path / "enas_runs" / "cifar10_micro_phase-final.log"
    try:
        config = "configs/cifar10_micro.py:phase=final"
        result = _run_script("run.sh", tmp_path, "--mode=retrain", CONFIG=config)
        assert result.returncode == 0, result.stderr
        assert f"started in the background: {workdir}" in result.stdout
        lock = tmp_path / ".enas_tf_tpu_run"
        deadline = time.monotonic() + 30
        while not (tmp_path / "python_args.txt").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (tmp_path / "python_args.txt").read_text().splitlines() == [
            "-m",
            "enas_tf.train",
            "--tpu=local",
            f"--config={config}",
            f"--workdir={workdir}",
            "--mode=retrain",
        ]
        second = _run_script("run.sh", tmp_path, CONFIG="configs/tiny.py")
        assert second.returncode == 1
        assert "a run is already using the TPU" in second.stderr
        assert str(workdir) in second.stderr
        os.kill(int(lock.read_text().split()[0]), signal.SIGTERM)
        assert "exit status 143" in _wait_for_exit_line(log)
        assert not lock.exists()
    finally:
        _kill_leftover_run(tmp_path)


def test_run_restores_from_and_copies_to_the_backup(tmp_path):
    (tmp_path / "backup_exists").touch()
    workdir = tmp_path / "enas_runs" / "tiny"
    try:
        result = _run_script("run.sh", tmp_path, CONFIG="configs/tiny.py", BACKUP="gs://b/tiny")
        assert result.returncode == 0, result.stderr
        assert "exit status 0" in _wait_for_exit_line(tmp_path / "enas_runs" / "tiny.log")
    finally:
        _kill_leftover_run(tmp_path)
    rsync = ["storage", "rsync", "--recursive"]
    assert _gcloud_calls(tmp_path) == [
        ["storage", "ls", "gs://b/tiny"],
        rsync + ["gs://b/tiny", str(workdir)],  # restore: the workdir did not exist
        rsync + ["--exclude=(^|.*/)checkpoint$", str(workdir), "gs://b/tiny"],
        rsync + [str(workdir), "gs://b/tiny"],
    ]


@pytest.mark.parametrize(
    "env, message",
    [
        ({"WORKDIR": "gs://b/run"}, "must be a local directory. Set BACKUP=gs://b/run"),
        ({"BACKUP": "/local/dir"}, "BACKUP=/local/dir: must be a gs://BUCKET/PATH URL"),
        ({"CONFIG": "configs/nope.py"}, "CONFIG=configs/nope.py: no such file"),
    ],
)
def test_run_refuses_bad_settings_before_starting(tmp_path, env, message):
    result = _run_script("run.sh", tmp_path, **env)
    assert result.returncode == 1
    assert message in result.stderr
    assert not (tmp_path / "python_args.txt").exists()
    assert not (tmp_path / "enas_runs").exists()


def test_setup_vm_outside_a_git_clone_names_the_fix(tmp_path):
    copy = tmp_path / "not_a_clone" / "tpu"
    copy.mkdir(parents=True)
    (copy / "setup_vm.sh").write_bytes(open(os.path.join(TPU_DIR, "setup_vm.sh"), "rb").read())
    env = {"GIT_CEILING_DIRECTORIES": str(tmp_path)}  # no enclosing repository is found
    result = _run_script("setup_vm.sh", tmp_path, tpu_dir=str(copy), TPU_NAME="t1", ZONE="z", **env)
    assert result.returncode == 1
    assert "not a git clone" in result.stderr and "Run it from a clone" in result.stderr
    assert _gcloud_calls(tmp_path) == []
