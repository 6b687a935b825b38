"""Writing results so that an interrupted run never leaves a half-written file behind.

Also what the filesystem can refuse, said in one line: a `--workdir` that cannot be written
(checked before anything is), and a full disk or a refused write while saving
(`reporting_storage_errors`), since every write here can be redone by a rerun.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile

from enas_tf.errors import StorageError, WorkdirError

_REFUSALS = (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS)
_FULL = {os.strerror(code).lower() for code in (errno.ENOSPC, errno.EDQUOT)}


def write_json_atomic(path: str, payload) -> None:
    """Writes JSON to a temporary file in the same directory, then renames it over `path`."""
    text = json.dumps(payload, indent=2, sort_keys=False) + "\n"
    _write_atomic(path, text.encode(), suffix=".json")


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Writes bytes (a picture) the same way: a temporary file, then a rename over `path`."""
    _write_atomic(path, data, suffix=os.path.basename(path))


def _write_atomic(path: str, data: bytes, suffix: str) -> None:
    """`data` into a temporary file beside `path`, with an ordinary file's mode, renamed over it.

    `mkstemp` creates its file with mode 0600 whatever the umask, and the rename keeps it: a
    config.json or result.json that other users of a shared workdir (or TensorBoard and TF
    Serving run as another user) could not read. The file gets the mode `open()` would give.
    """
    directory = os.path.dirname(os.path.abspath(path))
    with reporting_storage_errors(path, f"writing {os.path.basename(path)}"):
        os.makedirs(directory, exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), default_mode())
                f.write(data)
            os.replace(tmp_path, path)
        except BaseException:
            if os.path.exists(tmp_path):
                os.remove(tmp_path)
            raise


def storage_problem(error: BaseException) -> str | None:
    """What a filesystem refused, if `error` is such a refusal: "no space left on device",
    "permission denied" or "read-only file system"; None for any other error.

    Python reports these as OSErrors with an errno; TensorFlow's savers as an `OpError`
    (ResourceExhaustedError, PermissionDeniedError) whose message ends with the system's
    text for the same errno.
    """
    for code in _REFUSALS:
        if (isinstance(error, OSError) and error.errno == code) or os.strerror(code) in str(error):
            return os.strerror(code).lower()
    return None


def storage_error_message(problem: str, path: str, what: str) -> str:
    """One line: where the filesystem refused, what to do, and that a rerun resumes."""
    fix = (
        "free some space"
        if problem in _FULL
        else "make it writable for this user (or use another --workdir)"
    )
    return (
        f"{path}: {problem} while {what}; {fix} and rerun the same command: it resumes from "
        "what was saved completely (the last checkpoint)"
    )


@contextlib.contextmanager
def reporting_storage_errors(path: str, what: str):
    """Turns a full disk or a refused write while doing `what` under `path` into one line.

    Every write of a run is a checkpoint, a file renamed into place or an export staged and
    renamed, so nothing half-written is kept and a rerun resumes; the `StorageError` says so
    and names the path, instead of a traceback from inside TensorFlow's saver.
    """
    try:
        yield
    except Exception as error:
        problem = storage_problem(error)
        if problem is None:
            raise
        raise StorageError(storage_error_message(problem, path, what)) from error


def default_mode(directory: bool = False) -> int:
    """The mode `open()` (0666) or `os.makedirs` (0777) gives under the process's umask."""
    return (0o777 if directory else 0o666) & ~umask()


def umask() -> int:
    """The process's umask, read without changing it where the system allows.

    `os.umask` can only be read by setting it, and a file another thread (TensorFlow's event
    writers, checkpoint savers) creates between setting and restoring it would get the
    temporary mask; Linux reports the mask in /proc/self/status instead.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: the common default while it is read, then restored
    os.umask(mask)
    return mask


def check_workdir(workdir: str) -> None:
    """Refuses a `--workdir` the run could not create or write, before anything is written.

    Otherwise the first write (the lock file, minutes of data loading later for a large
    dataset) fails with a FileExistsError or PermissionError traceback.

    Raises:
      WorkdirError: it is a file, lies under a file, or is not writable (the path named).
    """
    if "://" in workdir:  # gs:// and friends: only the filesystem itself can say
        return
    existing = os.path.abspath(workdir)
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        what = "is" if existing == os.path.abspath(workdir) else f"cannot be created: {existing} is"
        raise WorkdirError(
            f"--workdir={workdir} {what} a file, not a directory; pass a directory (a new one "
            "is created)"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise WorkdirError(
            f"--workdir={workdir}: permission denied: {existing} is not writable for this user; "
            "make it writable or use another --workdir"
        )


def read_json(path: str):
    with open(path) as f:
        return json.load(f)
