"""Local stand-ins for the full profile's downloads, for ``make check-full``.

The full profile of the lessons downloads MNIST (``keras.datasets.mnist``), the pix2pix facades
archive (``archives.download_pix2pix_dataset``), TFDS ``cycle_gan/horse2zebra`` and the authors'
trained generators (``pretrained.load``). To run it offline, and in minutes, this script writes
into ``ROOT``:

* ``archives/facades.tar.gz``: a facades-format archive (``facades/{train,val,test}/N.jpg``, each
  256x512 "photo | labels", as the authors' archive) made from the shipped label2scene pairs;
* ``mnist.npz``: MNIST's file format (``x_train``, ``y_train``, ``x_test``, ``y_test``, uint8)
  holding the shipped digits;
* ``pretrained/<family>/<name>.pth`` for every name of ``pretrained.CHECKPOINTS``, named as the
  authors' files: links to one full-size checkpoint per architecture (``resnet_9blocks.npz``, 45 MB;
  ``unet_256.npz``, 218 MB) with the authors' names and shapes and random weights
  (``pretrained.stand_in_state_dict``), stored as ``.npz``, which the reader tells from a ``.pth``
  by its content, so no torch is needed (``--no-pretrained`` leaves them out);
* ``keras/`` for ``KERAS_HOME`` (Keras's and the lessons' download cache): empty, so the real
  download code runs; with ``--facades cache``, ``keras/datasets/facades/`` is left there exactly
  as a finished ``download_pix2pix_dataset`` leaves it (unpacked, with its ``.download_complete``);
* ``ipython/profile_default/startup/00-course-stand-ins.py`` for ``IPYTHONDIR``: every Jupyter
  kernel started with ``IPYTHONDIR=ROOT/ipython`` and ``COURSE_STAND_INS=ROOT`` answers the
  downloads at their boundary, and the code above the boundary is the real one:

  - ``keras.datasets.mnist.load_data`` asks ``get_file`` for MNIST's URL: that one call returns
    ``ROOT/mnist.npz`` (Keras's SHA-256 check is for the real file, so the file cannot simply be
    left in the cache); ``load_data`` itself reads and splits it;
  - ``archives.PIX2PIX_BASE_URL`` becomes ``file://ROOT/archives/{name}.tar.gz``: the download
    (``keras.utils.get_file``), the hash, the unpacking and the marker are the real ones;
  - ``tfds.testing.mock_data`` (random images with horse2zebra's features and splits) is entered
    for the whole kernel; ``tfds.load`` and the course's pipeline run as usual;
  - ``pretrained.CYCLEGAN_URL`` and ``pretrained.PIX2PIX_URL`` become ``file://ROOT/pretrained/...``:
    the download, the printed SHA-256, the reading and the conversion are the real ones.

Nothing here is active unless both variables are set, which only ``make check-full`` does (the
startup file is in ``ROOT``, not in your own ``~/.ipython``). Usage::

    python scripts/full_stand_ins.py ROOT [--facades url|cache] [--no-pretrained]   # prints the variables to export
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
#: Files per split of the facades stand-in (the real archive has 400 / 100 / 106).
FACADES_FILES = {"train": 16, "val": 8, "test": 8}
#: Examples per TFDS split under mock_data (horse2zebra has 1,067 / 1,334 / 120 / 140).
TFDS_EXAMPLES = 8
#: Digits of the MNIST stand-in's test split (the rest of the shipped 3,000 are x_train).
MNIST_TEST = 500

STARTUP = '''\
# Written by scripts/full_stand_ins.py for `make check-full` (see that script): the full profile's
# downloads answered by local stand-ins at their boundary. Active only with COURSE_STAND_INS set.
import os as _os

if _os.environ.get("COURSE_STAND_INS"):
    def _course_stand_ins(root):
        from pathlib import Path

        import course_utils  # noqa: F401  (sets TensorFlow's log level before it starts)
        import keras.src.datasets.mnist as mnist_module
        import tensorflow_datasets as tfds

        from course_utils import archives, pretrained

        real_get_file = mnist_module.get_file

        def get_file(fname=None, origin=None, **kwargs):
            if origin is not None and origin.endswith("/mnist.npz"):
                return str(Path(root) / "mnist.npz")
            return real_get_file(fname, origin, **kwargs)

        mnist_module.get_file = get_file
        archives.PIX2PIX_BASE_URL = (Path(root) / "archives").as_uri() + "/{{name}}.tar.gz"
        pretrained.CYCLEGAN_URL = (Path(root) / "pretrained" / "cyclegan").as_uri() + "/{{name}}.pth"
        pretrained.PIX2PIX_URL = (Path(root) / "pretrained" / "pix2pix").as_uri() + "/{{name}}.pth"
        mock = tfds.testing.mock_data(num_examples={tfds_examples})
        mock.__enter__()
        return mock

    _course_stand_ins_mock = _course_stand_ins(_os.environ["COURSE_STAND_INS"])
'''


def _shipped_data() -> Path:
    """The shipped datasets: the repository's ``data/`` from a clone, the packaged copy from a wheel."""
    sys.path.insert(0, str(REPO))
    from course_utils import config

    return config.data_dir()


def facades_like_pairs(n: int, offset: int, size: int = 256) -> list[Image.Image]:
    """``n`` shipped label2scene pairs as facades files: ``size`` x ``2*size``, photo on the left."""
    files = sorted((_shipped_data() / "label2scene" / "train").glob("*.jpg"))[offset:offset + n]
    if len(files) < n:
        raise FileNotFoundError(f"Need {n} pairs in data/label2scene/train, found {len(files)}: run `make data`.")
    out = []
    for path in files:
        pair = Image.open(path).convert("RGB")
        w, h = pair.size
        labels, photo = pair.crop((0, 0, w // 2, h)), pair.crop((w // 2, 0, w, h))   # shipped: A=labels | B=scene
        image = Image.new("RGB", (2 * size, size))
        image.paste(photo.resize((size, size), Image.BICUBIC), (0, 0))
        image.paste(labels.resize((size, size), Image.NEAREST), (size, 0))
        out.append(image)
    return out


def write_facades_archive(archives_dir: Path) -> Path:
    """``archives_dir/facades.tar.gz`` with one top folder ``facades/`` as the authors' archive."""
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp) / "facades"
        offset = 0
        for split, n in FACADES_FILES.items():
            (top / split).mkdir(parents=True)
            for i, image in enumerate(facades_like_pairs(n, offset), start=1):
                image.save(top / split / f"{i}.jpg", quality=95)
            offset += n
        archives_dir.mkdir(parents=True, exist_ok=True)
        archive = archives_dir / "facades.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(top, arcname="facades")
    return archive


def leave_facades_in_cache(archive: Path, keras_home: Path) -> Path:
    """Unpack ``archive`` into ``keras_home/datasets`` as a finished download leaves it."""
    sys.path.insert(0, str(REPO))
    from course_utils import archives

    return archives.download_pix2pix_dataset("facades", keras_home / "datasets", url=archive.as_uri(),
                                             progress=False)


def write_mnist(path: Path) -> Path:
    """MNIST's ``.npz`` layout holding the shipped digits."""
    with np.load(_shipped_data() / "digits" / "digits.npz") as npz:
        images, labels = npz["images"], npz["labels"]
    np.savez_compressed(path, x_train=images[:-MNIST_TEST], y_train=labels[:-MNIST_TEST],
                        x_test=images[-MNIST_TEST:], y_test=labels[-MNIST_TEST:])
    return path


def write_pretrained(folder: Path, filters: int = 64) -> list[Path]:
    """``folder/<family>/<name>.pth`` for every published checkpoint: links to one random-weight
    ``.npz`` per architecture at ``filters`` (64: the authors' full size)."""
    sys.path.insert(0, str(REPO))
    from course_utils import pretrained

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, entry in pretrained.CHECKPOINTS.items():
        target = folder / f"{entry.architecture}.npz"
        if not target.exists():
            np.savez(target, **pretrained.stand_in_state_dict(entry.architecture, filters))
        family, file = name.split("/", 1)
        link = folder / family / f"{file}.pth"
        link.parent.mkdir(exist_ok=True)
        link.symlink_to(Path("..") / target.name)
        written.append(link)
    return written


def build(root: Path, facades: str = "url", pretrained: bool = True) -> dict[str, str]:
    """Write every stand-in under ``root`` (emptied first); returns the environment variables to set."""
    if facades not in ("url", "cache"):
        raise ValueError(f"--facades must be 'url' or 'cache', not {facades!r}.")
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    archive = write_facades_archive(root / "archives")
    write_mnist(root / "mnist.npz")
    if pretrained:
        write_pretrained(root / "pretrained")
    keras_home = root / "keras"
    (keras_home / "datasets").mkdir(parents=True)
    if facades == "cache":
        leave_facades_in_cache(archive, keras_home)
    startup = root / "ipython" / "profile_default" / "startup" / "00-course-stand-ins.py"
    startup.parent.mkdir(parents=True)
    startup.write_text(STARTUP.format(tfds_examples=TFDS_EXAMPLES))
    return {"COURSE_STAND_INS": str(root), "IPYTHONDIR": str(root / "ipython"), "KERAS_HOME": str(keras_home)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="folder to (re)create; e.g. build/full-stand-ins")
    parser.add_argument("--facades", choices=("url", "cache"), default="url",
                        help="url: the download runs from a file:// address; cache: left unpacked in KERAS_HOME")
    parser.add_argument("--no-pretrained", action="store_true",
                        help="leave out the authors' checkpoints (263 MB of random full-size weights)")
    args = parser.parse_args(argv)
    for name, value in build(args.root.resolve(), args.facades, pretrained=not args.no_pretrained).items():
        print(f"export {name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
