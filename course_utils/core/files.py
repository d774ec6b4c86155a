"""Files on disk, one rule each: which names are images or archives, a file's hash, a safe write.

1. :data:`IMAGE_SUFFIXES` are the image files the course reads (TensorFlow decodes them all);
   :data:`ARCHIVE_SUFFIXES` the dataset archives it unpacks (:func:`course_utils.core.data.dataset_folder`).
2. :func:`file_sha256` is a file's SHA-256, read in 1 MiB chunks.
3. :func:`write_atomically` writes a file under a temporary name and renames it into place:
   a run killed mid-write (a Colab disconnect) leaves the old file or the new one, never half
   of one.

Nothing here imports another course_utils module; only :func:`download_checked` imports Keras, when called.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any, Callable

#: Image files the course reads: JPEG, PNG and BMP, which ``tf.io.decode_image`` decodes.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")

#: Dataset archives :func:`course_utils.core.data.dataset_folder` unpacks.
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")


def is_image_file(path: str | os.PathLike) -> bool:
    """True when ``path``'s suffix is one of :data:`IMAGE_SUFFIXES` (any case)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def is_archive(path: str | os.PathLike) -> bool:
    """True when ``path`` ends in one of :data:`ARCHIVE_SUFFIXES` (any case)."""
    return str(path).lower().endswith(ARCHIVE_SUFFIXES)


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of the file at ``path``, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomically(path: str | os.PathLike, content: bytes | str | Callable[[Path], Any]) -> Path:
    """Write ``content`` to ``path`` through a temporary file in the same folder, then rename it.

    ``content`` is bytes, text (written as UTF-8) or a function that saves to the path it is
    given (``model.save``, ``np.savez``...). The temporary name keeps the suffix, because Keras
    and NumPy choose the format by it. The rename (:func:`os.replace`) is atomic on one file
    system, so readers see the old file or the new one; a failed write leaves no temporary file.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        if callable(content):
            content(tmp)
        elif isinstance(content, str):
            tmp.write_text(content, encoding="utf-8")
        else:
            tmp.write_bytes(content)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def download_checked(url: str, target: str | os.PathLike, expected: str | None, progress: bool = True) -> str:
    """Download ``url`` to ``target`` (``keras.utils.get_file``, replacing it) and check its SHA-256.

    ``expected`` None: nothing to check, the hash is given in a warning so that it can be pinned. Returns the hash.

    Raises:
        ValueError: the hash is not ``expected`` (the download is deleted).
        ConnectionError: the address cannot be fetched.
    """
    import keras

    target = Path(target)
    quiet = keras.utils.is_interactive_logging_enabled()
    if not progress:
        keras.utils.disable_interactive_logging()
    try:
        keras.utils.get_file(target.name, origin=url, cache_dir=str(target.parent), cache_subdir=".",
                             force_download=True)
    except Exception as err:   # get_file raises a plain Exception for an unreachable address
        target.unlink(missing_ok=True)
        raise ConnectionError(f"Could not download {url}: {err}\nCheck the address and the internet "
                              "connection (on Colab: Runtime > Restart and try again).") from err
    finally:
        if quiet and not progress:
            keras.utils.enable_interactive_logging()
    got = file_sha256(target)
    if expected is not None and got != expected:
        target.unlink()
        raise ValueError(f"Checksum mismatch for {url}:\n  expected sha256 {expected}\n  got      sha256 {got}\n"
                         "The download is damaged or the file changed on the server; it was deleted. Retry, "
                         "and if the new file is the one you want, pass sha256=... with the new hash.")
    if expected is None:
        warnings.warn(f"Downloaded {url} unchecked (sha256 {got}; pass sha256='{got}' to pin it).", stacklevel=2)
    return got


# ===========================================================================
# Where the shipped data is
# ===========================================================================
#: The repository the package is installed from when it is installed editable
#: (``pip install -e .``, what ``make install`` does): the folder holding ``data/``.
#: ``None`` when installed from a wheel (Colab).
REPO_ROOT: Path | None = (
    Path(__file__).resolve().parents[2]
    if (Path(__file__).resolve().parents[2] / "data" / "make_data.py").is_file()
    else None
)

#: The copy of ``data/`` that travels inside the wheel (pyproject.toml maps the repository's
#: ``data/`` folder onto the subpackage ``course_utils.shipped_data``).
PACKAGED_DATA = Path(__file__).resolve().parents[1] / "shipped_data"


def data_dir() -> Path:
    """The shipped ``data/`` folder (label2scene, day2dusk, digits).

    Found, in order: ``$COURSE_DATA_DIR`` (your own copy); the repository the package is
    installed from (``pip install -e .``, so ``make data`` changes what the lessons see); the
    copy inside the installed package (``pip install`` from a wheel or git, as on Colab).
    Nothing is downloaded.
    """
    env = os.environ.get("COURSE_DATA_DIR")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"COURSE_DATA_DIR={env} is not a folder. Point it at a copy of the "
                                    "course's data/ folder, or unset it to use the shipped one.")
        return path
    for path in ([REPO_ROOT / "data"] if REPO_ROOT is not None else []) + [PACKAGED_DATA]:
        if (path / "digits").is_dir():
            return path
    raise FileNotFoundError(
        f"Cannot find the course's data/ folder: it is neither in the repository nor in {PACKAGED_DATA}. "
        "Reinstall the package (pip install from the repository or a wheel built by `python -m build`; "
        "both carry the data), or set COURSE_DATA_DIR to a copy of the repository's data/ folder."
    )


def in_colab() -> bool:
    """True inside Google Colab."""
    import sys

    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def download_cache() -> Path:
    """Where the lessons keep what they download (the pix2pix archives, the pretrained generators).

    ``/content/datasets`` on Colab; elsewhere Keras's own download cache, ``$KERAS_HOME/datasets``
    (``~/.keras/datasets`` when ``KERAS_HOME`` is unset), where ``keras.datasets`` keeps MNIST.
    """
    if in_colab():
        return Path("/content/datasets")
    home = os.environ.get("KERAS_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".keras") / "datasets"
