"""Tests for enas_tf.runtime.workdir_lock: one run per workdir, no stale lock after a kill."""

import os
import signal
import subprocess
import sys

import pytest

from enas_tf.errors import WorkdirError
from enas_tf.runtime import workdir_lock

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Another process that takes the lock, says so, and holds it until killed.
_HOLDER = (
    "import sys, time; sys.path.insert(0, {repo!r}); "
    "from enas_tf.runtime import workdir_lock; "
    "workdir_lock.WorkdirLock({workdir!r}).acquire(); print('locked', flush=True); time.sleep(60)"
)


def _start_holder(workdir):
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER.format(repo=REPO, workdir=str(workdir))],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path):
    holder = _start_holder(tmp_path / "run")
    try:
        with pytest.raises(WorkdirError, match=rf"in use by another run \(pid {holder.pid} on "):
            workdir_lock.WorkdirLock(str(tmp_path / "run")).acquire()
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_dies_with_a_killed_process(tmp_path):
    holder = _start_holder(tmp_path / "run")
    holder.send_signal(signal.SIGKILL)  # no cleanup, as on a preempted VM
    holder.wait()
    lock = workdir_lock.WorkdirLock(str(tmp_path / "run"))
    lock.acquire()  # no stale lock
    assert f"pid {os.getpid()} " in (tmp_path / "run" / workdir_lock.LOCK_NAME).read_text()
    lock.release()


def test_release_lets_the_next_run_in_and_the_workdir_is_created(tmp_path):
    workdir = str(tmp_path / "new" / "run")
    with workdir_lock.WorkdirLock(workdir):
        assert os.path.isdir(workdir)
        with pytest.raises(WorkdirError, match="in use by another run"):
            workdir_lock.WorkdirLock(workdir).acquire()  # a second open file: flock refuses it
    with workdir_lock.WorkdirLock(workdir):
        pass


def test_a_remote_workdir_is_not_locked(tmp_path):
    lock = workdir_lock.WorkdirLock("gs://bucket/run")
    lock.acquire()  # logs that it cannot lock; creates nothing
    lock.release()
