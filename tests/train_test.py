"""Tests of the command line (`python -m enas_tf.train`) as a user or a cluster runs it.

Besides flag handling: a search killed with SIGKILL and rerun (a preempted TPU VM), and a
two-process MultiWorkerMirroredStrategy search on localhost (TF_CONFIG).
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf

from configs import tiny
from enas_tf import train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_unknown_override_key_is_a_one_line_error_that_names_the_flag(tmp_path, run_cli):
    workdir = tmp_path / "run"
    result = run_cli("--config=configs/tiny.py", "--config.search.epoch=3", f"--workdir={workdir}")
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


# A search small enough for a test: the tiny macro config with 3 layers (still pooling twice),
# the quickest search to trace; these tests start it in new processes several times.
_SEARCH = [
    "--config=configs/tiny.py:space=macro",
    "--config.search.model.num_layers=3",
    "--mode=search",
]
_TINY = tiny.get_config("space=macro")
_CHILD_STEPS = (_TINY.data.embedded.num_train - _TINY.data.num_valid) // _TINY.search.batch_size
_CONTROLLER_STEPS = _TINY.search.controller.train_steps  # per epoch


@pytest.mark.slow
def test_a_search_killed_mid_phase_resumes_and_finishes_at_the_right_step(
    tmp_path, search_counters, run_cli
):
    workdir = str(tmp_path / "run")
    args = [*_SEARCH, f"--workdir={workdir}", "--config.checkpoint_every_steps=1"]
    args += ["--config.search.epochs=3"]
    command = [sys.executable, "-m", "enas_tf.train", *args]
    process = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)
    ckpt_dir = os.path.join(workdir, "search", "ckpt")
    deadline = time.time() + 240
    try:
        while tf.train.latest_checkpoint(ckpt_dir) is None:
            assert process.poll() is None, process.stderr.read()[-3000:]
            assert time.time() < deadline, "no checkpoint within 240 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)  # no chance to clean up, as on a preempted VM
        process.wait(timeout=30)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    child_steps, _, _ = search_counters(workdir)
    assert 1 <= child_steps < 3 * _CHILD_STEPS, "the kill did not land mid-run"

    rerun = run_cli(*args)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "search: resumed from" in rerun.stderr
    # Every child step and controller update done exactly once in total.
    assert search_counters(workdir) == (3 * _CHILD_STEPS, 3 * _CONTROLLER_STEPS, 3)


def _start_workers(workdir, cluster, extra, logs, count=2):
    processes = []
    for index in range(count):
        env = dict(
            os.environ,
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
        )
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "enas_tf.train", *_SEARCH, f"--workdir={workdir}", *extra],
                cwd=REPO,
                env=env,
                stderr=open(logs[index], "w"),
                text=True,
            )
        )
    return processes


def _run_workers(workdir, cluster, extra, logs):
    """Runs two workers to the end (400 s at most); returns them and their stderr."""
    processes = _start_workers(workdir, cluster, extra, logs)
    try:
        for process in processes:
            process.wait(timeout=400)
    finally:
        for p in processes:
            p.kill()
    return processes, [open(log).read() for log in logs]


@pytest.mark.slow
def test_two_workers_search_on_localhost_each_streaming_its_own_shards(
    tmp_path, search_counters, free_ports, tfds_shards
):
    """One search over two processes: they meet, each reads its own half of the shards, train
    in step (the same all-reduced losses), and only the chief writes the checkpoint.

    (One test for the cluster and the streaming: each started its own two-process search,
    most of whose minute is the two processes' start-up; issue #27.)
    """
    workdir = str(tmp_path / "run")
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(2)]}
    logs = [str(tmp_path / f"worker{i}.log") for i in range(2)]
    extra = [
        "--config.search.epochs=1",
        f"--config.data.source={tfds_shards}",
        "--config.data.streaming=on",
        "--config.data.num_valid=32",
    ]
    processes, outputs = _run_workers(workdir, cluster, extra, logs)
    parts = []
    for index, (process, stderr) in enumerate(zip(processes, outputs, strict=True)):
        assert process.returncode == 0, f"worker {index}: {stderr[-3000:]}"
        assert "2 replica(s)" in stderr, f"worker {index} did not join the cluster"
        assert "streamed from TFRecord shards" in stderr
        reads = re.findall(rf"input pipeline {index} of 2 reads (\d+) examples: (.*)", stderr)
        assert reads, f"worker {index} logged no shard set: {stderr[-3000:]}"
        parts.append(reads[0])
    assert "(chief)" in outputs[0] and "(worker)" in outputs[1]
    # 128 training examples over 4 shards: 64 each, from different shard ranges.
    assert [int(count) for count, _ in parts] == [64, 64] and parts[0][1] != parts[1][1]
    # Synchronous training: both workers log the same all-reduced losses and rewards.
    logged = [re.findall(r"(child loss \S+|reward \S+)", out) for out in outputs]
    assert logged[0] and logged[0] == logged[1]
    assert search_counters(workdir) == (128 // 16, _CONTROLLER_STEPS, 1)
    # Only the chief wrote: no scratch checkpoint of worker 1 is left behind.
    assert not [n for n in os.listdir(os.path.join(workdir, "search", "ckpt")) if "worker" in n]


@pytest.mark.slow
def test_a_sigterm_to_one_worker_stops_both_at_the_same_step(tmp_path, search_counters, free_ports):
    """A preempted host: every worker saves at the same boundary and the cluster resumes."""
    workdir = str(tmp_path / "run")
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(2)]}
    extra = ["--config.search.epochs=3", "--config.checkpoint_every_steps=0"]
    logs = [str(tmp_path / f"worker{i}.log") for i in range(2)]
    processes = _start_workers(workdir, cluster, extra, logs)
    try:
        deadline = time.time() + 300
        # The end of epoch 1's line: both are in epoch 2.
        while not all("search epoch 1/3: " in open(log).read() for log in logs):
            assert all(p.poll() is None for p in processes), open(logs[0]).read()[-3000:]
            assert time.time() < deadline, "the workers did not reach epoch 2 within 300 s"
            time.sleep(0.05)
        processes[1].send_signal(signal.SIGTERM)  # the non-chief host is preempted
        for process in processes:
            process.wait(timeout=120)
    finally:
        for process in processes:
            process.kill()
    lasts = [open(log).read().strip().splitlines()[-1] for log in logs]
    # The chief was never signalled: it stops because the other worker was.
    assert [p.returncode for p in processes] == [143, 143], lasts
    assert lasts[0] == lasts[1], lasts
    match = re.fullmatch(
        r"interrupted at search epoch \d+ (child|controller) step (\d+); .*", lasts[0]
    )
    assert match, lasts[0]
    child, controller, _ = search_counters(workdir)
    assert int(match.group(2)) == (child if match.group(1) == "child" else controller)

    cluster = {"worker": [f"localhost:{port}" for port in free_ports(2)]}
    processes = _start_workers(workdir, cluster, extra, logs)
    try:
        codes = [p.wait(timeout=400) for p in processes]
    finally:
        for process in processes:
            process.kill()
    assert codes == [0, 0], open(logs[0]).read()[-3000:]
    assert search_counters(workdir) == (3 * _CHILD_STEPS, 3 * _CONTROLLER_STEPS, 3)


@pytest.mark.slow
def test_a_worker_whose_peer_never_comes_stops_on_sigterm_or_at_its_deadline(tmp_path, free_ports):
    """Issue #28: the wait for the cluster is bounded and a signal ends it (it used to hang in
    TensorFlow's C++ until SIGKILL); nothing is written to the workdir either way."""
    workdir = tmp_path / "run"
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(2)]}
    log = str(tmp_path / "worker0.log")
    [worker] = _start_workers(str(workdir), cluster, [], [log], count=1)
    try:
        deadline = time.time() + 120
        while "waiting up to 600 s for its other tasks" not in open(log).read():
            assert worker.poll() is None, open(log).read()[-3000:]
            assert time.time() < deadline, "the worker did not start waiting within 120 s"
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    finally:
        worker.kill()
    output = open(log).read()
    assert worker.returncode == 143, output[-3000:]
    assert "received SIGTERM: stopping the wait for the cluster's other tasks" in output
    assert output.strip().splitlines()[-1] == (
        "interrupted at the start, waiting for the cluster's other tasks; "
        "rerun the same command to resume"
    )
    assert not workdir.exists()

    [worker] = _start_workers(
        str(workdir), cluster, ["--config.cluster_wait_seconds=1"], [log], count=1
    )
    try:
        worker.wait(timeout=120)
    finally:
        worker.kill()
    output = open(log).read()
    assert worker.returncode == 1, output[-3000:]
    assert (
        output.strip()
        .splitlines()[-1]
        .startswith(
            "error: waited 1 s for the other tasks of TF_CONFIG's cluster; still not answering: "
            f"/job:worker/task:1 at {cluster['worker'][1]}."
        )
    )
    assert "Traceback" not in output
    assert not workdir.exists()


def test_a_refused_write_no_stage_reported_is_one_line_naming_the_path(
    tmp_path, monkeypatch, run_cli
):
    """The CLI's last net for filesystem refusals (a subdirectory of another user, a full disk
    outside the checkpoint and export writes): one line, exit 1, not a traceback."""
    import errno

    from enas_tf import pipeline

    refused = str(tmp_path / "run" / "retrain")

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", refused)

    monkeypatch.setattr(pipeline, "run", refuse)
    result = run_cli(f"--config={REPO}/configs/tiny.py", f"--workdir={tmp_path}")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {refused}: permission denied while writing the run's files; make it writable "
        "for this user (or use another --workdir) and rerun the same command: it resumes from "
        "what was saved completely (the last checkpoint)"
    ]
