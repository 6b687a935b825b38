"""One run per workdir: an exclusive OS lock held for the whole run.

Two runs writing one workdir interleave event files and checkpoints and leave arc.json from
one run beside the retrained model of the other, which no later run can repair. The chief
takes `flock(LOCK_EX | LOCK_NB)` on `<workdir>/.lock` before writing anything and keeps the
file open until the process ends. The kernel drops the lock with the process, however it ends
(SIGKILL included), so a crashed run never leaves a stale lock behind; a second run finds the
lock held and stops at once, naming the process that holds it (the holder writes its pid,
host and start time into the file).

Only the chief locks: other workers of a multi-worker run write no workdir files of their own
and must not contend with their chief. A workdir on a remote filesystem (`gs://...`) has no
OS lock; the run logs that it is not locked.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time

from absl import logging

from enas_tf.errors import WorkdirError

LOCK_NAME = ".lock"


def _is_remote(path: str) -> bool:
    return "://" in path


class WorkdirLock:
    """The exclusive lock of one workdir, held from `acquire` until `release` or exit."""

    def __init__(self, workdir: str):
        self.workdir = workdir
        self.path = os.path.join(workdir, LOCK_NAME)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Takes the lock, creating the workdir if needed.

        Raises:
          WorkdirError: another process holds the lock (named in the message).
        """
        if _is_remote(self.workdir):
            logging.warning(
                "workdir %s is remote: it cannot be locked, so do not start a second run on it",
                self.workdir,
            )
            return
        os.makedirs(self.workdir, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise WorkdirError(
                f"--workdir={self.workdir} is in use by another run ({holder}); wait for it to "
                "finish or stop it, or use another --workdir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, _holder_line().encode())
        self._fd = fd

    def release(self) -> None:
        """Drops the lock (the file stays; the next run reuses it)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "WorkdirLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _holder_line() -> str:
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    return f"pid {os.getpid()} on {socket.gethostname()}, started {started}\n"


def _read_holder(fd: int) -> str:
    """What the holder wrote about itself, or a note that it has not written yet."""
    try:
        text = os.pread(fd, 200, 0).decode(errors="replace").strip()
    except OSError:
        text = ""
    return text or "a process that has just started"
