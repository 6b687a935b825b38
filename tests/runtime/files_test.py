"""Tests for enas_tf.runtime.files: atomic writes and their mode, filesystem refusals as one
line, workdirs that cannot be written."""

import errno
import os
import stat

import pytest
import tensorflow as tf

from enas_tf.errors import StorageError, WorkdirError
from enas_tf.runtime import files


@pytest.fixture
def umask_027():
    before = os.umask(0o027)
    yield
    os.umask(before)


def test_atomic_writes_get_the_mode_an_ordinary_open_gives(tmp_path, umask_027):
    files.write_json_atomic(str(tmp_path / "config.json"), {"a": 1})
    files.write_bytes_atomic(str(tmp_path / "arc.png"), b"png")
    with open(tmp_path / "plain", "w"):
        pass
    plain = stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)
    assert plain == 0o640
    for name in ("config.json", "arc.png"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == plain, name
    assert files.read_json(str(tmp_path / "config.json")) == {"a": 1}
    assert sorted(os.listdir(tmp_path)) == ["arc.png", "config.json", "plain"]


def test_the_umask_is_read_without_changing_it(umask_027):
    assert files.umask() == 0o027
    assert files.umask() == 0o027
    assert files.default_mode(directory=True) == 0o750


@pytest.mark.parametrize(
    "error, problem",
    [
        (OSError(errno.ENOSPC, "No space left on device", "/w/x"), "no space left on device"),
        (
            tf.errors.ResourceExhaustedError(
                None, None, "/w/ckpt/ckpt-1_temp/part-0; No space left on device [Op:SaveV2]"
            ),
            "no space left on device",
        ),
        (PermissionError(errno.EACCES, "Permission denied", "/w/x"), "permission denied"),
        (OSError(errno.EROFS, "Read-only file system", "/w/x"), "read-only file system"),
    ],
    ids=["ENOSPC", "tf-disk-full", "EACCES", "EROFS"],
)
def test_filesystem_refusals_become_one_line_naming_the_path(error, problem):
    with pytest.raises(StorageError) as info:
        with files.reporting_storage_errors("/w/search/ckpt", "saving a checkpoint"):
            raise error
    message = str(info.value)
    assert message.startswith(f"/w/search/ckpt: {problem} while saving a checkpoint; ")
    assert "rerun the same command: it resumes" in message
    assert "\n" not in message


def test_other_errors_pass_through():
    with pytest.raises(ValueError, match="a bug"):
        with files.reporting_storage_errors("/w", "saving a checkpoint"):
            raise ValueError("a bug")


def test_a_full_disk_during_an_atomic_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(StorageError, match=r"config\.json: no space left on device"):
        files.write_json_atomic(str(tmp_path / "config.json"), {"a": 1})
    assert os.listdir(tmp_path) == []


def test_a_workdir_that_is_a_file_or_under_one_is_refused(tmp_path):
    regular = tmp_path / "results.txt"
    regular.write_text("not a directory")
    with pytest.raises(WorkdirError, match=rf"--workdir={regular} is a file, not a directory"):
        files.check_workdir(str(regular))
    with pytest.raises(WorkdirError, match=rf"cannot be created: {regular} is a file"):
        files.check_workdir(str(regular / "run"))
    files.check_workdir(str(tmp_path / "new" / "run"))  # created later, by the run
    files.check_workdir("gs://bucket/run")  # only the filesystem can say


def test_an_unwritable_workdir_is_refused_naming_it(tmp_path, monkeypatch):
    # The tests may run as root, for whom every directory is writable: ask os.access.
    monkeypatch.setattr(os, "access", lambda path, mode: path != str(tmp_path))
    with pytest.raises(WorkdirError, match=rf"permission denied: {tmp_path} is not writable"):
        files.check_workdir(str(tmp_path / "run"))
