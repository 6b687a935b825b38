"""Tests for enas_tf.export: versions staged and renamed, leftovers of killed exports removed."""

import errno
import os
import stat

import pytest

from enas_tf import export
from enas_tf.errors import StorageError
from enas_tf.spaces import arc_io

_ARC = arc_io.load_arc("enas_micro_final")


def _write_model(staging):
    with open(os.path.join(staging, "saved_model.pb"), "wb") as f:
        f.write(b"model")


def test_staging_directories_of_a_killed_export_are_removed_and_only_those(tmp_path):
    root = tmp_path / "export"
    for name in (".tmp-1-k2j_x9ab", ".tmp-3-zz"):  # what mkdtemp named in killed exports
        (root / name / "variables").mkdir(parents=True)
    (root / ".tmp-config.json").write_text("{}")  # not a staging directory
    (root / ".tmp-2-file").write_text("a file")
    (root / "mine").mkdir()
    target = export.write_version(str(root), _ARC, _write_model)
    assert target == str(root / "1")
    assert sorted(os.listdir(root)) == [".tmp-2-file", ".tmp-config.json", "1", "mine"]
    assert arc_io.load_arc(os.path.join(target, "arc.json")) == _ARC


def test_a_version_gets_an_ordinary_directory_mode(tmp_path):
    before = os.umask(0o022)
    try:
        target = export.write_version(str(tmp_path), _ARC, _write_model)
    finally:
        os.umask(before)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o755


def test_a_full_disk_is_one_line_and_leaves_no_staging_directory(tmp_path):
    def full(staging):
        raise OSError(errno.ENOSPC, "No space left on device", staging + "/saved_model.pb")

    with pytest.raises(StorageError, match=rf"{tmp_path}: no space left on device while export"):
        export.write_version(str(tmp_path), _ARC, full)
    assert os.listdir(tmp_path) == []
