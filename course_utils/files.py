"""Files on disk, one rule each: which names are images or archives, a file's hash, a safe write.

1. :data:`IMAGE_SUFFIXES` are the image files the course reads (TensorFlow decodes them all);
   :data:`ARCHIVE_SUFFIXES` the dataset archives it unpacks (:func:`course_utils.data.dataset_folder`).
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

#: Dataset archives :func:`course_utils.data.dataset_folder` unpacks.
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
