"""scripts/full_stand_ins.py: the stand-ins make check-full serves the full profile's downloads from."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import full_stand_ins  # noqa: E402


def test_facades_archive_has_the_authors_layout(tmp_path):
    archive = full_stand_ins.write_facades_archive(tmp_path)
    with tarfile.open(archive) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
    assert len(names) == sum(full_stand_ins.FACADES_FILES.values()) == 32
    assert names[0] == "facades/test/1.jpg" and all(n.startswith("facades/") for n in names)
    assert sum(n.startswith("facades/val/") for n in names) == 8


def test_mnist_stand_in_has_mnists_keys(tmp_path):
    path = full_stand_ins.write_mnist(tmp_path / "mnist.npz")
    with np.load(path) as npz:
        assert sorted(npz.files) == ["x_test", "x_train", "y_test", "y_train"]
        assert npz["x_train"].shape == (2500, 28, 28) and npz["x_test"].shape == (500, 28, 28)
        assert npz["x_train"].dtype == np.uint8 and set(np.unique(npz["y_train"])) == set(range(10))


def test_pretrained_stand_ins_are_named_as_the_authors_files_and_load(tmp_path, monkeypatch, capsys):
    from course_utils import pretrained

    links = full_stand_ins.write_pretrained(tmp_path / "pretrained", filters=2)   # 64 in make check-full
    assert sorted(p.relative_to(tmp_path / "pretrained").as_posix() for p in links) == \
        sorted(f"{name}.pth" for name in pretrained.CHECKPOINTS)
    assert sorted(p.name for p in (tmp_path / "pretrained").glob("*.npz")) == ["resnet_9blocks.npz", "unet_256.npz"]
    # What the startup file sets; load() then runs its real download, hash and conversion.
    monkeypatch.setattr(pretrained, "CYCLEGAN_URL", (tmp_path / "pretrained" / "cyclegan").as_uri() + "/{name}.pth")
    with pytest.warns(UserWarning, match="sha256"):
        g = pretrained.load("cyclegan/style_vangogh", tmp_path / "cache", image_size=32, progress=False)
    assert g.output_shape == (None, 32, 32, 3)


def test_bad_facades_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="--facades"):
        full_stand_ins.build(tmp_path / "x", facades="http")


@pytest.mark.slow   # imports TensorFlow and TFDS in a subprocess
def test_startup_file_answers_the_three_downloads(tmp_path):
    env_vars = full_stand_ins.build(tmp_path / "stand-ins", pretrained=False)   # tested above, and 263 MB
    startup = Path(env_vars["IPYTHONDIR"]) / "profile_default" / "startup" / "00-course-stand-ins.py"
    check = (f"exec(open({str(startup)!r}).read())\n"
             "import keras\n"
             "from course_utils import archives, config, data\n"
             "(x, y), (xt, yt) = keras.datasets.mnist.load_data()\n"
             "root = archives.download_pix2pix_dataset('facades', config.download_cache(), progress=False)\n"
             "a, b = data.load_cycle_gan_tfds('horse2zebra', 'train', image_size=64, jitter=False, shuffle=False)\n"
             "from course_utils import pretrained\n"
             "print('URLS', pretrained.CYCLEGAN_URL.startswith('file://'), pretrained.PIX2PIX_URL.startswith('file://'))\n"
             "print('RESULT', x.shape[0], xt.shape[0], len(list((root / 'train').glob('*.jpg'))),"
             " root.parent == config.download_cache(), (root / '.download_complete').is_file(),"
             " sum(1 for _ in a), sum(1 for _ in b))\n")
    env = {**os.environ, **env_vars, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = [line for line in proc.stdout.splitlines() if line.startswith("RESULT")]
    assert result == ["RESULT 2500 500 16 True True 8 8"], proc.stdout[-2000:]
    assert "URLS True True" in proc.stdout
    # Without COURSE_STAND_INS the startup file does nothing.
    env.pop("COURSE_STAND_INS")
    proc = subprocess.run([sys.executable, "-c", f"exec(open({str(startup)!r}).read()); import sys; "
                           "print('keras' in sys.modules)"], capture_output=True, text=True, timeout=120, env=env)
    assert proc.stdout.strip() == "False", proc.stderr[-2000:]
