"""scripts/release_check.py: the wheel carries the shipped data; the offline release checks catch drift."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "release_check.py"
pytestmark = pytest.mark.skipif(not SCRIPT.is_file() or not (REPO / "course_utils").is_dir(),
                                reason="needs a clone of the repository (scripts/ and the package source)")


@pytest.fixture(scope="module")
def release_check():
    spec = importlib.util.spec_from_file_location("release_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_wheel_carries_every_data_file_and_stays_small(release_check, tmp_path):
    wheel = release_check.build_wheel(tmp_path)
    assert release_check.check_wheel(wheel) == []
    assert wheel.stat().st_size < 15e6
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "course_utils/shipped_data/digits/digits.npz" in names
    assert len([n for n in names if n.startswith("course_utils/shipped_data/label2scene/train/")]) == 300
    # The same check fails on a wheel without the data.
    bare = tmp_path / "bare" / wheel.name
    bare.parent.mkdir()
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(bare, "w") as dst:
        for name in src.namelist():
            if not name.startswith("course_utils/shipped_data/day2dusk/"):
                dst.writestr(name, src.read(name))
    assert any("lacks 480 data files" in p for p in release_check.check_wheel(bare))


def test_links_to_another_ref_are_reported(release_check, monkeypatch):
    assert release_check.check_links() == []
    monkeypatch.setattr(release_check, "PINNED_REF", "v9.9.9")
    monkeypatch.setattr(release_check.check_notebooks, "PINNED_REF", "v9.9.9")
    problems = release_check.check_links()
    assert any("expected" in p and "v9.9.9" in p for p in problems), problems
    assert release_check.check_version() != []


def test_a_missing_tag_says_what_to_do(release_check, monkeypatch):
    monkeypatch.setattr(release_check, "PINNED_REF", "v0.0.0-no-such-tag")
    assert release_check.check_tag() == [
        "the tag v0.0.0-no-such-tag does not exist in this clone: commit, then `git tag v0.0.0-no-such-tag` "
        "(README: Publishing a release)"]
