"""Tests of course_utils.core.data: shipped sets, loaders, bad files, downloads, TFDS, throughput.

Everything runs offline on tiny images in a few seconds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import sys
import tarfile
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from course_utils import archives
from course_utils import data as D

REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _save(path: Path, array: np.ndarray, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)
    return path


def _pair(h: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, 2 * h, 3), dtype=np.uint8)


def _good_folder(root: Path, n: int = 3, h: int = 16) -> Path:
    for i in range(n):
        _save(root / "train" / f"{i}.jpg", _pair(h, i), quality=95)
    return root


def _jpeg_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG")
    return buf.getvalue()


def _first(ds: tf.data.Dataset):
    return next(iter(ds))


def _make_data_module():
    spec = importlib.util.spec_from_file_location("make_data", REPO / "data" / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_data", module)  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------
# the shipped datasets
# ---------------------------------------------------------------------------
def test_shipped_sets_exist_with_expected_layout_and_size():
    paired, unpaired = D.shipped_paired_path(), D.shipped_unpaired_path()
    assert {p.name for p in paired.iterdir() if p.is_dir()} >= {"train", "val", "test"}
    assert {p.name for p in unpaired.iterdir() if p.is_dir()} >= {"trainA", "trainB", "testA", "testB"}
    assert len(list((paired / "train").glob("*.jpg"))) >= 200
    assert len(list((unpaired / "trainA").glob("*.jpg"))) >= 100
    total = sum(p.stat().st_size for p in D.shipped_paired_path().parent.rglob("*") if p.is_file())
    assert total < 10 * 1024**2, f"data/ is {total / 1e6:.1f} MB, over the 10 MB budget"


def test_paired_loader_on_shipped_data():
    ds = D.load_paired_folder(D.shipped_paired_path(), "train", image_size=32, batch_size=4, seed=0)
    assert ds.element_spec[0].shape == (4, 32, 32, 3)  # static batch shape
    x, y = _first(ds)
    assert x.dtype == tf.float32 and y.shape == (4, 32, 32, 3)
    for t in (x, y):
        assert -1.0 <= float(tf.reduce_min(t)) and float(tf.reduce_max(t)) <= 1.0
        assert float(tf.reduce_max(t)) - float(tf.reduce_min(t)) > 0.5  # not blank


def test_paired_direction_swaps_input_and_target():
    kw = dict(image_size=32, jitter=False, shuffle=False, batch_size=2)
    a2b = _first(D.load_paired_folder(D.shipped_paired_path(), "val", direction="AtoB", **kw))
    b2a = _first(D.load_paired_folder(D.shipped_paired_path(), "val", direction="BtoA", **kw))
    np.testing.assert_allclose(a2b[0], b2a[1])
    np.testing.assert_allclose(a2b[1], b2a[0])
    assert not np.allclose(a2b[0], a2b[1])
    with pytest.raises(ValueError, match="direction"):
        D.load_paired_folder(D.shipped_paired_path(), "val", direction="sideways")


def test_unpaired_loader_on_shipped_data():
    ds_a, ds_b = D.load_unpaired_folder(D.shipped_unpaired_path(), "train", image_size=32, batch_size=2, seed=0)
    for ds in (ds_a, ds_b):
        assert ds.element_spec.shape == (2, 32, 32, 3)
        x = _first(ds)
        assert x.dtype == tf.float32
        assert -1.0 <= float(tf.reduce_min(x)) and float(tf.reduce_max(x)) <= 1.0
    test_a, _ = D.load_unpaired_folder(D.shipped_unpaired_path(), "test", image_size=48, jitter=False)
    assert _first(test_a).shape == (1, 48, 48, 3)


def test_shipped_digits():
    images, labels = D.load_digits_arrays("shipped")
    assert images.shape[1:] == (28, 28) and images.dtype == np.uint8 and len(images) >= 1000
    assert set(np.unique(labels)) == set(range(10)) and len(labels) == len(images)
    ds = D.load_digits("shipped", batch_size=64, num_examples=512)
    assert ds.element_spec.shape == (64, 28, 28, 1)
    assert sum(1 for _ in ds) == 512 // 64
    x = _first(ds).numpy()
    assert x.min() == pytest.approx(-1.0) and x.max() == pytest.approx(1.0)
    # Drawn like MNIST: dark background, a digit in the middle.
    assert images[:, :3, :].mean() < 5 and images[:, 10:18, 10:18].mean() > 40


def test_digits_source_is_checked_and_mnist_failure_points_offline(monkeypatch):
    with pytest.raises(ValueError, match="'mnist' or 'shipped'"):
        D.load_digits("emnist")

    def no_network():
        raise OSError("no route to host")

    import keras

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    with pytest.raises(RuntimeError, match="source='shipped'"):
        D.load_digits("mnist")


def test_true_translation_round_trip_and_types():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 8, 8, 3)).astype(np.float32)
    y = D.true_translation(x, "AtoB")
    assert isinstance(y, np.ndarray) and y.shape == x.shape
    assert not np.allclose(x, y)
    np.testing.assert_allclose(D.true_translation(y, "BtoA"), x, atol=1e-5)
    t = D.true_translation(tf.constant(x))
    assert isinstance(t, tf.Tensor)
    np.testing.assert_allclose(t.numpy(), y, atol=1e-6)
    with pytest.raises(ValueError):
        D.true_translation(x, "AtoA")


def test_true_translation_matches_the_generator():
    make_data = _make_data_module()
    rgb01 = np.random.default_rng(1).uniform(0, 1, (4, 4, 3))
    expected = make_data.dusk(rgb01) * 2 - 1
    np.testing.assert_allclose(D.true_translation(rgb01 * 2 - 1, "AtoB"), expected, atol=1e-5)


def test_true_translation_explains_the_shipped_domains():
    # Translating dusk back to day makes B's colours look like A's (they are different scenes,
    # so compare the average colour of each folder).
    def mean_colour(folder: str) -> np.ndarray:
        files = sorted((D.shipped_unpaired_path() / folder).glob("*.jpg"))[:60]
        return np.stack([np.asarray(Image.open(f), np.float32) / 127.5 - 1 for f in files])

    a, b = mean_colour("trainA"), mean_colour("trainB")
    back = D.true_translation(b, "BtoA")
    gap_before = np.abs(a.mean(axis=(0, 1, 2)) - b.mean(axis=(0, 1, 2))).max()
    gap_after = np.abs(a.mean(axis=(0, 1, 2)) - back.mean(axis=(0, 1, 2))).max()
    assert gap_after < 0.1 < gap_before


def test_generator_is_deterministic_and_reproduces_shipped_files(tmp_path):
    make_data = _make_data_module()
    counts = {"train": 2}
    make_data.write_paired(tmp_path / "one", counts)
    make_data.write_paired(tmp_path / "two", counts)
    first = sorted((tmp_path / "one" / "label2scene" / "train").glob("*.jpg"))
    assert len(first) == 2
    for f in first:
        assert f.read_bytes() == (tmp_path / "two" / "label2scene" / "train" / f.name).read_bytes()
        shipped = np.asarray(Image.open(D.shipped_paired_path() / "train" / f.name), np.float32)
        regenerated = np.asarray(Image.open(f), np.float32)
        assert np.abs(shipped - regenerated).mean() < 2.0
    images, labels = make_data.make_digits(20)
    with np.load(D.shipped_digits_path()) as shipped:
        np.testing.assert_array_equal(labels, shipped["labels"][:20])
        assert np.abs(images.astype(float) - shipped["images"][:20]).mean() < 2.0


# ---------------------------------------------------------------------------
# preprocessing functions
# ---------------------------------------------------------------------------
def test_normalize_and_denormalize():
    x = tf.constant([[[0, 127.5, 255]]])
    np.testing.assert_allclose(D.normalize(x).numpy(), [[[-1, 0, 1]]])
    np.testing.assert_allclose(D.denormalize(np.array([-3.0, -1.0, 0.0, 1.0])), [0, 0, 0.5, 1])
    assert isinstance(D.denormalize(tf.constant([0.0])), tf.Tensor)


def test_split_pair_and_resize():
    image = np.zeros((4, 8, 3), np.uint8)
    image[:, 4:] = 255
    a, b = D.split_pair(tf.constant(image))
    assert a.shape == b.shape == (4, 4, 3)
    assert int(tf.reduce_max(a)) == 0 and int(tf.reduce_min(b)) == 255
    assert D.resize(tf.zeros((4, 4, 3)), 10).shape == (10, 10, 3)
    assert D.resize(tf.zeros((40, 20, 3)), (6, 8)).shape == (6, 8, 3)


def test_random_jitter_same_crop_for_both_and_reproducible():
    x = tf.random.uniform((20, 20, 3), -1, 1, seed=1)
    seed = tf.constant([3, 4], tf.int64)
    a, b = D.random_jitter(x, x, image_size=16, seed=seed)
    assert a.shape == (16, 16, 3)
    np.testing.assert_array_equal(a, b)
    a2, _ = D.random_jitter(x, x, image_size=16, seed=seed)
    np.testing.assert_array_equal(a, a2)
    others = [D.random_jitter(x, None, image_size=16, seed=tf.constant([i, 0], tf.int64)) for i in range(8)]
    assert len({o.numpy().tobytes() for o in others}) > 1, "jitter never changed the crop"


def test_random_mirror_pair_flips_both_or_neither():
    x = tf.reshape(tf.range(12, dtype=tf.float32), (2, 2, 3))
    flipped = 0
    for i in range(16):
        a, b = D.random_mirror_pair(x, x + 100, seed=tf.constant([i, 1], tf.int64))
        np.testing.assert_array_equal(a + 100, b)
        flipped += int(not np.array_equal(a, x))
    assert 0 < flipped < 16


def test_random_crop_pair_without_seed():
    x = tf.random.uniform((10, 10, 3))
    a, b = D.random_crop_pair(x, x, 4)
    assert a.shape == (4, 4, 3)
    np.testing.assert_array_equal(a, b)


def test_same_crop_on_both_halves_through_the_loader(tmp_path):
    # Halves identical (and smaller than the crop, so they are resized up): input must equal target.
    rng = np.random.default_rng(0)
    for i in range(4):
        half = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
        _save(tmp_path / "train" / f"{i}.png", np.concatenate([half, half], axis=1))
    ds = D.load_paired_folder(tmp_path, "train", image_size=16, batch_size=2, seed=0)
    for _ in range(2):  # two epochs: different random crops, still identical halves
        for x, y in ds:
            assert x.shape == (2, 16, 16, 3)
            np.testing.assert_array_equal(x, y)
    plain = _first(D.load_paired_folder(tmp_path, "train", image_size=16, batch_size=2, jitter=False,
                                        shuffle=False))[0]
    jittered = _first(D.load_paired_folder(tmp_path, "train", image_size=16, batch_size=2, shuffle=False,
                                           seed=0))[0]
    assert not np.allclose(plain, jittered)


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------
def test_bad_files_are_all_named_in_one_error(tmp_path):
    root = _good_folder(tmp_path)
    train = root / "train"
    (train / "corrupt.jpg").write_bytes(b"this is not a jpeg at all" * 10)
    (train / "empty.jpg").write_bytes(b"")
    (train / "notes.txt").write_text("hello")
    (train / "truncated.jpg").write_bytes(_jpeg_bytes(_pair(64))[:600])
    png = io.BytesIO()
    Image.fromarray(_pair(64)).save(png, "PNG")
    (train / "truncated.png").write_bytes(png.getvalue()[: len(png.getvalue()) // 2])
    with pytest.raises(ValueError) as err:
        D.load_paired_folder(root, "train", image_size=16)
    message = str(err.value)
    for name in ("corrupt.jpg", "empty.jpg", "notes.txt", "truncated.jpg", "truncated.png"):
        assert name in message
    assert "0.jpg" not in message.replace("0 bytes", "")  # good files are not blamed
    assert "skip_bad_files=True" in message and "5 of 8" in message


def test_skip_bad_files_warns_and_keeps_the_good_ones(tmp_path):
    root = _good_folder(tmp_path, n=3)
    (root / "train" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (root / "train" / "zero.png").write_bytes(b"")
    with pytest.warns(UserWarning, match="broken.jpg") as record:
        ds = D.load_paired_folder(root, "train", image_size=16, skip_bad_files=True)
    assert "zero.png" in str(record[0].message)
    assert sum(1 for _ in ds) == 3


def test_pairs_not_exactly_2_to_1_are_split_at_half_width_and_resized(tmp_path):
    # Files as real photo sets have them: 2:1, too flat, odd widths, a little too tall.
    rng = np.random.default_rng(0)
    sizes = {"a_exact.png": (12, 24), "b_flat.png": (9, 40), "c_odd.png": (10, 31), "d_tall.png": (20, 30)}
    files = {}
    for name, (h, w) in sizes.items():
        files[name] = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        _save(tmp_path / "train" / name, files[name])
    with pytest.warns(UserWarning) as record:
        ds = D.load_paired_folder(tmp_path, "train", image_size=16, jitter=False, shuffle=False, batch_size=4)
    messages = [str(w.message) for w in record if "twice as wide" in str(w.message)]
    assert len(messages) == 1                                  # one warning for the folder ...
    for name in ("b_flat.png", "c_odd.png", "d_tall.png"):    # ... naming every non-square pair
        assert name in messages[0]
    assert "a_exact.png" not in messages[0] and "3 of 4" in messages[0]
    x, y = _first(ds)
    assert x.shape == y.shape == (4, 16, 16, 3)
    for i, name in enumerate(sorted(sizes)):                   # A = left half, B = right half, each resized
        image = D.normalize(files[name])
        half = image.shape[1] // 2
        np.testing.assert_allclose(x[i], D.resize(image[:, :half], 16), atol=1e-5)
        np.testing.assert_allclose(y[i], D.resize(image[:, half:2 * half], 16), atol=1e-5)
    # With jitter both halves get the same crop: a file whose halves are equal gives input == target.
    half = rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)
    _save(tmp_path / "same" / "0.png", np.concatenate([half, half], axis=1))
    with pytest.warns(UserWarning, match="0.png: 26x9"):
        jittered = D.load_paired_folder(tmp_path, "same", image_size=16, seed=1)
    for _ in range(3):
        a, b = _first(jittered)
        np.testing.assert_array_equal(a, b)


def test_only_what_cannot_be_a_pair_is_refused(tmp_path):
    root = _good_folder(tmp_path)
    _save(root / "train" / "portrait.jpg", np.zeros((20, 16, 3), np.uint8))    # narrower than high
    _save(root / "train" / "tiny.png", np.zeros((7, 14, 3), np.uint8))         # halves 7x7 < 8
    _save(root / "train" / "thin.png", np.zeros((30, 30, 3), np.uint8))        # square: halves 15x30, still a pair
    with pytest.raises(ValueError) as err:
        D.load_paired_folder(root, "train")
    message = str(err.value)
    assert "2 of 6" in message
    assert "portrait.jpg: is 16x20, narrower than it is high" in message
    assert "tiny.png: is 14x7: each half would be 7x7 pixels, under the 8-pixel minimum" in message
    assert "thin.png" not in message
    with pytest.warns(UserWarning, match="(?s)Skipping 2 unusable.*portrait.jpg"):
        ds = D.load_paired_folder(root, "train", image_size=8, skip_bad_files=True, shuffle=False,
                                  batch_size=4, jitter=False)
    assert _first(ds)[0].shape == (4, 8, 8, 3)                # 3 good + the square one


# ---------------------------------------------------------------------------
# your own dataset as an archive
# ---------------------------------------------------------------------------
def _zip_folder(zip_path: Path, src: Path, prefix: str = "") -> Path:
    import zipfile

    with zipfile.ZipFile(zip_path, "w") as archive:
        for file in sorted(src.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + file.relative_to(src).as_posix())
    return zip_path


@pytest.mark.parametrize("kind", ["zip_top", "zip_in_folder", "tar_gz"])
def test_loaders_read_a_dataset_archive_once_into_the_cache(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("COURSE_UTILS_CACHE", str(tmp_path / "cache"))
    src = _good_folder(tmp_path / "mine", n=2)
    _save(src / "testA" / "a.png", _pair(16, 5)[:, :16])
    _save(src / "testB" / "b.png", _pair(16, 6)[:, :16])
    if kind == "tar_gz":
        archive = tmp_path / "mine.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(src, arcname="mine")
    else:
        archive = _zip_folder(tmp_path / "mine.zip", src, "mine/" if kind == "zip_in_folder" else "")
        if kind == "zip_in_folder":          # what macOS's "Compress" adds
            import zipfile

            with zipfile.ZipFile(archive, "a") as z:
                z.writestr("__MACOSX/mine/._0.jpg", b"resource fork")
                z.writestr("mine/train/.DS_Store", b"finder")
    folder = archives.dataset_folder(archive)
    unpacked = tmp_path / "cache" / folder.relative_to(tmp_path / "cache").parts[0]
    assert unpacked.name.startswith("mine-") and folder.is_dir()
    assert folder == (unpacked / "mine" if kind != "zip_top" else unpacked)
    assert sorted(p.name for p in (folder / "train").iterdir() if not p.name.startswith(".")) == ["0.jpg", "1.jpg"]
    assert not (unpacked / "__MACOSX").exists()
    x, y = _first(D.load_paired_folder(archive, "train", image_size=8, batch_size=2, jitter=False, shuffle=False))
    expected = _first(D.load_paired_folder(src, "train", image_size=8, batch_size=2, jitter=False, shuffle=False))
    np.testing.assert_array_equal(x, expected[0])
    a, b = D.load_unpaired_folder(archive, "test", image_size=8, batch_size=1)
    assert _first(a).shape == (1, 8, 8, 3)
    # Unpacked once: a second call reuses the cache (even if the cached copy was touched).
    (folder / "train" / "extra.txt").write_text("left by the learner")
    assert archives.dataset_folder(archive) == folder and (folder / "train" / "extra.txt").exists()
    assert archives.dataset_folder(src) == src                       # a folder is returned as it is


def test_dataset_archive_errors_name_the_file_and_the_fix(tmp_path):
    import zipfile

    with pytest.raises(FileNotFoundError, match="nothere.zip: no such archive"):
        archives.dataset_folder(tmp_path / "nothere.zip", cache_dir=tmp_path / "c")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"notes.txt is a file but not a dataset archive.*\.zip"):
        archives.dataset_folder(tmp_path / "notes.txt", cache_dir=tmp_path / "c")
    (tmp_path / "broken.zip").write_bytes(b"PK not really")
    with pytest.raises(ValueError, match="broken.zip is not a readable zip file"):
        archives.dataset_folder(tmp_path / "broken.zip", cache_dir=tmp_path / "c")
    (tmp_path / "broken.tar.gz").write_bytes(b"\x1f\x8b nope")
    with pytest.raises(ValueError, match="broken.tar.gz is not a readable tar archive"):
        archives.dataset_folder(tmp_path / "broken.tar.gz", cache_dir=tmp_path / "c")
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    with pytest.raises(ValueError, match="empty.zip is empty"):
        archives.dataset_folder(tmp_path / "empty.zip", cache_dir=tmp_path / "c")
    assert [p for p in (tmp_path / "c").iterdir()] == []      # nothing half-unpacked left behind


def test_a_hostile_zip_cannot_write_outside_its_folder(tmp_path):
    import stat
    import zipfile

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("train/0.jpg", _jpeg_bytes(_pair(16)))
        z.writestr("../evil.txt", b"evil")
        z.writestr("/tmp/evil_course_utils_zip.txt", b"evil")
        info = zipfile.ZipInfo("train/evil_link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "../../../outside.txt")
    folder = archives.dataset_folder(archive, cache_dir=tmp_path / "cache")
    # zipfile's own checks: ".." and leading slashes are dropped, links become plain files.
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil_course_utils_zip.txt").exists()
    assert (folder / "evil.txt").read_bytes() == b"evil"
    assert (folder / "tmp" / "evil_course_utils_zip.txt").read_bytes() == b"evil"
    assert not (folder / "train" / "evil_link").is_symlink()


def test_dataset_tar_refuses_links_out(tmp_path):
    src = _good_folder(tmp_path / "mine", n=1)
    archive = tmp_path / "mine.tar.gz"
    link = tarfile.TarInfo("mine/train/evil")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname="mine")
        tar.addfile(link)
    with pytest.raises(ValueError, match=r"(?s)Refusing to extract .*mine.tar.gz.*mine/train/evil"):
        archives.dataset_folder(archive, cache_dir=tmp_path / "cache")


def test_missing_or_empty_split_lists_the_layout(tmp_path):
    _good_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"(?s)Missing folder.*val.*Expected layout.*train/.*test/"):
        D.load_paired_folder(tmp_path, "val")
    (tmp_path / "test").mkdir()
    with pytest.raises(FileNotFoundError, match="Empty folder"):
        D.load_paired_folder(tmp_path, "test")
    with pytest.raises(FileNotFoundError, match="(?s)trainA.*trainB"):
        D.load_unpaired_folder(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        D.load_paired_folder(tmp_path / "nowhere", "train")


def test_grayscale_and_rgba_become_rgb(tmp_path):
    gray = np.full((8, 16), 200, np.uint8)
    _save(tmp_path / "train" / "gray.png", gray)
    rgba = np.zeros((8, 16, 4), np.uint8)
    rgba[..., :3] = 10          # dark colour under ...
    rgba[:, :8, 3] = 0          # ... a fully transparent left half
    rgba[:, 8:, 3] = 255
    _save(tmp_path / "train" / "rgba.png", rgba)
    ds = D.load_paired_folder(tmp_path, "train", image_size=8, jitter=False, shuffle=False)
    (g_in, g_out), (r_in, r_out) = list(ds.unbatch())
    assert g_in.shape == (8, 8, 3)
    np.testing.assert_allclose(g_in, 200 / 127.5 - 1, atol=1e-5)
    np.testing.assert_allclose(r_in, 1.0)                      # transparent -> white
    np.testing.assert_allclose(r_out, 10 / 127.5 - 1, atol=1e-5)  # opaque keeps its colour


def test_non_ascii_names_and_all_extensions(tmp_path):
    for name in ("façade_日本.jpg", "zebra_ü.JPEG", "ein_bild.png", "klein.jpeg"):
        _save(tmp_path / "train" / name, _pair(8, len(name)))
    ds = D.load_paired_folder(tmp_path, "train", image_size=8, jitter=False, shuffle=False)
    assert sum(1 for _ in ds) == 4


def test_unpaired_bad_files_and_small_images(tmp_path):
    _save(tmp_path / "trainA" / "tiny.jpg", np.zeros((5, 7, 3), np.uint8))
    _save(tmp_path / "trainB" / "ok.png", np.zeros((30, 30), np.uint8))
    (tmp_path / "trainB" / "bad.jpg").write_bytes(b"nope")
    with pytest.raises(ValueError, match="bad.jpg"):
        D.load_unpaired_folder(tmp_path, image_size=16)
    with pytest.warns(UserWarning, match="bad.jpg"):
        ds_a, ds_b = D.load_unpaired_folder(tmp_path, image_size=16, skip_bad_files=True)
    assert _first(ds_a).shape == (1, 16, 16, 3)  # 5x7 image resized up, then cropped
    assert _first(ds_b).shape == (1, 16, 16, 3)


def test_too_few_images_for_a_batch(tmp_path):
    _good_folder(tmp_path, n=2)
    with pytest.raises(ValueError, match="fewer than batch_size=4"):
        D.load_paired_folder(tmp_path, "train", batch_size=4)


# ---------------------------------------------------------------------------
# download
# ---------------------------------------------------------------------------
def _archive(tmp_path: Path, extra: tarfile.TarInfo | None = None) -> Path:
    src = _good_folder(tmp_path / "src" / "mini", n=2)
    path = tmp_path / "mini.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src, arcname="mini")
        if extra is not None:
            tar.addfile(extra, io.BytesIO(b"x" * extra.size) if extra.isfile() else None)
    return path


def test_download_with_good_hash_extracts_and_is_reused(tmp_path):
    archive = _archive(tmp_path)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    out = archives.download_pix2pix_dataset("mini", cache, url=archive.as_uri(), sha256=digest, progress=False)
    assert out == cache / "mini" and sorted(p.name for p in (out / "train").iterdir()) == ["0.jpg", "1.jpg"]
    assert not (cache / "mini.tar.gz").exists() and not list(cache.glob("*.part"))
    assert _first(D.load_paired_folder(out, "train", image_size=8)).__len__() == 2
    archive.unlink()  # a second call must not download again
    assert archives.download_pix2pix_dataset("mini", cache, url=archive.as_uri(), progress=False) == out


def test_download_with_bad_hash_raises_and_cleans_up(tmp_path):
    archive = _archive(tmp_path)
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="Checksum mismatch"):
        archives.download_pix2pix_dataset("mini", cache, url=archive.as_uri(), sha256="0" * 64, progress=False)
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("kind", ["dotdot", "symlink"])
def test_download_refuses_members_escaping_the_folder(tmp_path, kind):
    if kind == "symlink":
        member = tarfile.TarInfo("mini/evil_link")
        member.type, member.linkname = tarfile.SYMTYPE, "../../outside.txt"
    else:
        member = tarfile.TarInfo("../evil.txt")
        member.size = 4
    archive = _archive(tmp_path, member)
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="(?s)Refusing to extract.*evil"):
        archives.download_pix2pix_dataset("mini", cache, url=archive.as_uri(), progress=False)
    assert not (tmp_path / "evil.txt").exists() and not (cache / "mini").exists()


def test_download_unknown_name_or_unreachable_url(tmp_path):
    with pytest.raises(ValueError, match="facades"):
        archives.download_pix2pix_dataset("horses", tmp_path)
    missing = (tmp_path / "missing.tar.gz").as_uri()
    with pytest.raises(ConnectionError, match="missing.tar.gz"):
        archives.download_pix2pix_dataset("mini", tmp_path / "cache", url=missing, progress=False)
    assert set(archives.PIX2PIX_DATASETS) == {"facades", "cityscapes", "maps", "edges2shoes", "edges2handbags",
                                       "night2day"}


# ---------------------------------------------------------------------------
# TFDS (mocked: no network, no download)
# ---------------------------------------------------------------------------
@pytest.mark.slow  # importing TFDS alone takes a few seconds
def test_cycle_gan_tfds_with_mock_data(monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setenv("NO_GCE_CHECK", "true")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tfds.testing.mock_data(num_examples=4, policy=tfds.testing.MockPolicy.USE_CODE):
            ds_a, ds_b = D.load_cycle_gan_tfds("horse2zebra", "train", image_size=32, batch_size=2, seed=0)
            for ds in (ds_a, ds_b):
                assert ds.element_spec.shape == (2, 32, 32, 3)
                batches = list(ds)
                assert len(batches) == 2
                x = batches[0]
                assert -1.0 <= float(tf.reduce_min(x)) and float(tf.reduce_max(x)) <= 1.0
            test_a, _ = D.load_cycle_gan_tfds("horse2zebra", "test", image_size=16, jitter=False)
            assert _first(test_a).shape == (1, 16, 16, 3)
    with pytest.raises(ValueError, match="horse2zebra"):
        D.load_cycle_gan_tfds("cats2dogs")
    with pytest.raises(ValueError, match="'train' or 'test'"):
        D.load_cycle_gan_tfds("horse2zebra", split="trainA")


# ---------------------------------------------------------------------------
# throughput
# ---------------------------------------------------------------------------
def test_pipeline_throughput_counts_images_over_a_clock(monkeypatch):
    # How fast the pipeline is depends on the machine: `make bench` measures it. Here a fake clock
    # makes the arithmetic exact: three runs of 3 batches of 2 images, timed 1, 2 and 3 s.
    ticks = iter([0.0, 1.0, 10.0, 12.0, 20.0, 23.0])
    monkeypatch.setattr(D, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    result = D.pipeline_throughput(image_size=64, jitter=True, batch_size=2, n_batches=3, repeats=3,
                                   warmup_batches=1)
    assert result["runs"] == [6.0, 3.0, 2.0]
    assert result["images_per_second"] == 3.0          # the median, not the mean
    assert (result["image_size"], result["batch_size"], result["n_batches"], result["jitter"]) == (64, 2, 3, True)
    assert next(ticks, None) is None                     # exactly two clock reads per run


# ---------------------------------------------------------------------------
# Lesson 04's helpers: epoch rates, one entry point for unpaired sets, fixed test images
# ---------------------------------------------------------------------------
def test_epoch_rates_counts_images_not_batches(monkeypatch):
    clock = iter(float(t) for t in range(100))
    monkeypatch.setattr(D.time, "perf_counter", lambda: next(clock))
    ds = tf.data.Dataset.from_tensor_slices(tf.zeros((10, 2, 2, 3))).batch(4)   # 4 + 4 + 2 images
    assert D.epoch_rates(ds, epochs=2) == [10.0, 10.0]    # each pass: 10 images over 1 fake second
    pairs = tf.data.Dataset.zip(ds, ds)                    # (x, y) elements count x's images
    assert D.epoch_rates(pairs) == [10.0]


def test_epoch_rates_refuses_empty_datasets_and_bad_epochs():
    with pytest.raises(ValueError, match="empty"):
        D.epoch_rates(tf.data.Dataset.from_tensor_slices(tf.zeros((0, 2))).batch(1))
    with pytest.raises(ValueError, match="positive integer"):
        D.epoch_rates(tf.data.Dataset.range(3), epochs=0)


def test_load_unpaired_routes_shipped_folders_and_tfds(tmp_path, monkeypatch):
    a, _ = D.load_unpaired("shipped", "test", image_size=16, jitter=False, shuffle=False, batch_size=2, cache=False)
    b, _ = D.load_unpaired_folder(D.shipped_unpaired_path(), "test", image_size=16, jitter=False, shuffle=False,
                                  batch_size=2, cache=False)
    np.testing.assert_array_equal(_first(a), _first(b))
    calls = []
    monkeypatch.setattr(D, "load_cycle_gan_tfds", lambda name, split, **kw: calls.append((name, split, kw)))
    D.load_unpaired("horse2zebra", "train", image_size=64)
    assert calls == [("horse2zebra", "train", {"image_size": 64})]
    with pytest.raises(FileNotFoundError, match="trainA"):     # an unknown name is a folder that is not there
        D.load_unpaired(str(tmp_path / "my_photos"), "train")


def test_unpaired_test_images_are_the_first_files_unjittered():
    x, y = D.unpaired_test_images("shipped", 3, image_size=16)
    assert x.shape == y.shape == (3, 16, 16, 3) and x.dtype == np.float32
    first = sorted((D.shipped_unpaired_path() / "testA").glob("*.jpg"))[0]
    expected = D.resize(D.normalize(tf.io.decode_jpeg(tf.io.read_file(str(first)), channels=3)), 16).numpy()
    np.testing.assert_allclose(x[0], expected, atol=1e-6)
    x_all, _ = D.unpaired_test_images("shipped", 1000, image_size=16)   # fewer when the split is smaller
    assert len(x_all) == len(list((D.shipped_unpaired_path() / "testA").glob("*.jpg")))
    with pytest.raises(ValueError, match="positive integer"):
        D.unpaired_test_images("shipped", 0)
