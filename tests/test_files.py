"""course_utils.core.files: the suffix lists, the file hash and the write that is never half done."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from course_utils import files


def test_image_and_archive_names_any_case():
    assert [files.is_image_file(n) for n in ("a.JPG", "b.jpeg", "c.png", "d.bmp", "e.webp", "f.txt")] == [
        True, True, True, True, False, False]
    assert [files.is_archive(n) for n in ("d.zip", "d.TAR.GZ", "d.tgz", "d.tar", "d.gz", "d.rar")] == [
        True, True, True, True, False, False]


def test_file_sha256_reads_in_chunks_and_matches_hashlib(tmp_path):
    data = bytes(range(256)) * 5000           # 1.28 MB: more than one 1 MiB chunk
    (tmp_path / "f").write_bytes(data)
    assert files.file_sha256(tmp_path / "f") == hashlib.sha256(data).hexdigest()
    (tmp_path / "empty").write_bytes(b"")
    assert files.file_sha256(tmp_path / "empty") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_write_atomically_writes_bytes_text_and_savers_and_replaces(tmp_path):
    path = tmp_path / "out.json"
    files.write_atomically(path, "first")
    files.write_atomically(path, b"second")
    assert path.read_text() == "second"
    weights = files.write_atomically(tmp_path / "w.npz", lambda tmp: np.savez(tmp, a=np.arange(3)))
    assert np.load(weights)["a"].tolist() == [0, 1, 2]       # the temporary name kept .npz, so NumPy added nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "w.npz"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "history.json"
    path.write_text("old")

    def broken(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        files.write_atomically(path, broken)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]
