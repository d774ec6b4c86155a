"""Datasets that arrive as one file: the pix2pix archives, and your own folder packed as a .zip or .tar.gz.

Read it top to bottom:

1. **Unpacking safely**: :func:`extract_archive` leaves the safety to the standard library.
   A tar archive is unpacked with the ``"data"`` filter (PEP 706: no member may land outside the
   folder, no link may point out of it, no device files); ``zipfile`` itself writes every
   member inside the folder (it drops ``..`` and leading slashes from names, and never makes
   links). A damaged archive, or a member the filter refuses, is a ``ValueError`` naming it.
2. **Your own dataset**: :func:`dataset_folder` turns a folder or an archive of one into the
   folder the loaders of :mod:`course_utils.core.data` read, unpacking an archive once into a cache.
3. **The pix2pix archives**: :data:`PIX2PIX_DATASETS` and :func:`download_pix2pix_dataset`,
   which downloads with ``keras.utils.get_file`` (progress bar, optional SHA-256 check) and
   unpacks with :func:`extract_archive`.

Which names count as archives is :data:`course_utils.core.files.ARCHIVE_SUFFIXES`.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from course_utils.core.files import ARCHIVE_SUFFIXES, download_checked, file_sha256, is_archive


# ===========================================================================
# 1. Unpacking safely
# ===========================================================================
def extract_archive(archive_path: str | os.PathLike, target: str | os.PathLike) -> None:
    """Unpack a ``.zip``, ``.tar``, ``.tar.gz`` or ``.tgz`` into ``target`` with the standard library's checks.

    Raises:
        ValueError: the archive is damaged, or (tar) a member would escape ``target``, link out of
            it or be a device file. What was unpacked before the error stays in ``target``:
            unpack into a fresh folder and delete it on error, as :func:`dataset_folder` does.
    """
    archive_path, target = Path(archive_path), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    if archive_path.name.lower().endswith(".zip"):
        try:
            with zipfile.ZipFile(archive_path) as archive:
                broken = archive.testzip()
                if broken is not None:
                    raise ValueError(f"{archive_path}: the member {broken} is damaged (bad CRC). Make the archive again.")
                archive.extractall(target)     # zipfile keeps every member inside target
        except zipfile.BadZipFile as err:
            raise ValueError(f"{archive_path} is not a readable zip file ({err}). Make the archive again "
                             "(e.g. right-click the folder > Compress, or `zip -r data.zip data/`).") from None
        return
    try:
        with tarfile.open(archive_path) as archive:
            archive.extractall(target, filter="data")
    except tarfile.FilterError as err:
        raise ValueError(f"Refusing to extract {archive_path}: {err}.\nThe archive is damaged or malicious; "
                         "do not use it.") from None
    except (tarfile.TarError, EOFError, OSError) as err:   # a cut or non-gzip file: EOFError/OSError
        raise ValueError(f"{archive_path} is not a readable tar archive ({err}). Make the archive again "
                         "(e.g. `tar czf data.tar.gz data/`).") from None


# ===========================================================================
# 2. Your own dataset as one file
# ===========================================================================
#: Folder names that are splits, not a dataset: an archive holding only these is the dataset itself.
_SPLIT_NAMES = {"train", "val", "test", "trainA", "trainB", "testA", "testB", "valA", "valB"}

_ARCHIVE_HASHES: dict[tuple[str, int, int], str] = {}


def default_cache_dir() -> Path:
    """Where unpacked archives go: ``$COURSE_UTILS_CACHE`` or ``~/.cache/course_utils/datasets``."""
    env = os.environ.get("COURSE_UTILS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "course_utils" / "datasets"


def _archive_sha256(path: Path) -> str:
    """SHA-256 of the archive, remembered for an unchanged file (same size and time) in this process."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _ARCHIVE_HASHES:
        _ARCHIVE_HASHES[key] = file_sha256(path)
    return _ARCHIVE_HASHES[key]


def dataset_folder(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> Path:
    """The dataset folder for ``path``: a folder as it is, or an archive unpacked safely into a cache.

    Lets you pack your own dataset (the paired ``train/ val/ test/`` layout or the unpaired
    ``trainA/ trainB/ ...`` one) as a ``.zip`` or ``.tar.gz``, upload that one file (to Colab,
    or Google Drive) and give it to the loaders or to ``--data`` directly. The archive may hold
    the split folders at its top or inside one folder (as "Compress folder" makes it);
    macOS's ``__MACOSX`` folder is left out. Unpacking is :func:`extract_archive`'s. The result
    is cached under ``<cache_dir>/<name>-<first 12 hex digits of the archive's SHA-256>``, so the
    same archive is unpacked once and a changed one again.

    Args:
        path: a dataset folder, or a ``.zip``/``.tar.gz``/``.tgz``/``.tar`` file of one.
        cache_dir: where archives are unpacked (default :func:`default_cache_dir`).

    Raises:
        FileNotFoundError: ``path`` names an archive that does not exist (a missing folder is
            returned as it is: the loaders then explain the layout they expect).
        ValueError: an unreadable or unsafe archive, or a file that is not an archive.
    """
    path = Path(path)
    if path.is_dir() or (not path.exists() and not is_archive(path)):
        return path           # a folder, or a missing one: the loaders explain the expected layout
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such archive. Check the name and where you uploaded it, or give "
                                "the dataset folder itself.")
    if not is_archive(path):
        raise ValueError(f"{path} is a file but not a dataset archive ({', '.join(ARCHIVE_SUFFIXES)}). Give the "
                         "dataset folder, or pack it as a .zip or .tar.gz.")
    suffix = next(s for s in ARCHIVE_SUFFIXES if path.name.lower().endswith(s))
    name = path.name[:-len(suffix)] or "dataset"
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    final = cache / f"{name}-{_archive_sha256(path)[:12]}"
    marker = final / ".unpacked"
    if marker.is_file():
        root = marker.read_text().strip() or "."
        return final / root if root != "." else final
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache))
    try:
        extract_archive(path, staging)
        shutil.rmtree(staging / "__MACOSX", ignore_errors=True)
        entries = [p for p in staging.iterdir() if not p.name.startswith(".")]
        if not entries:
            raise ValueError(f"{path} is empty: pack the dataset folder (with train/ or trainA/ and trainB/).")
        single = entries[0] if len(entries) == 1 and entries[0].is_dir() else None
        root = single.name if single is not None and single.name not in _SPLIT_NAMES else "."
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    marker.write_text(root + "\n")
    return final / root if root != "." else final


# ===========================================================================
# 3. The pix2pix archives
# ===========================================================================
PIX2PIX_BASE_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"


@dataclass(frozen=True)
class Pix2PixArchive:
    """A pix2pix dataset archive: its pinned checksum (``None``: none published), the direction
    that turns the drawing-like half (labels, edges, map) into the photo (night -> day for
    night2day), and a line about it."""

    sha256: str | None
    direction: str
    about: str


#: The archives of the pix2pix authors (Isola et al. 2017), each file "A | B". We searched for a
#: published SHA-256 of these archives and found none, so none is pinned: a download prints the
#: hash it got, so that you can pin it yourself (``sha256=...``). The pix2pix repository trains
#: facades labels -> photo with ``--direction BtoA``; A is the photo in facades, cityscapes and
#: maps, the edge map in edges2*, the night view in night2day.
PIX2PIX_DATASETS: dict[str, Pix2PixArchive] = {
    "facades": Pix2PixArchive(None, "BtoA", "400 building facades (CMP Facades): photo | labels"),
    "cityscapes": Pix2PixArchive(None, "BtoA", "2,975 street scenes (Cityscapes): photo | labels"),
    "maps": Pix2PixArchive(None, "BtoA", "1,096 pairs from Google Maps: aerial photo | map"),
    "edges2shoes": Pix2PixArchive(None, "AtoB", "50k shoes (UT Zappos50K): edges | photo"),
    "edges2handbags": Pix2PixArchive(None, "AtoB", "137k handbags (Amazon): edges | photo"),
    "night2day": Pix2PixArchive(None, "AtoB", "about 20k webcam pairs: night | day"),
}


def download_pix2pix_dataset(name: str, cache_dir: str | os.PathLike, url: str | None = None,
                             sha256: str | None = None, progress: bool = True, keep_archive: bool = False) -> Path:
    """Download and unpack a pix2pix archive; returns the dataset folder (``<cache_dir>/<name>``).

    The folder holds ``train/``, ``val/`` (and for some ``test/``) ready for
    :func:`course_utils.core.data.load_paired_folder`. A finished download is reused: nothing is
    fetched twice. The download is ``keras.utils.get_file``'s (with its progress bar).

    Args:
        name: one of :data:`PIX2PIX_DATASETS` (facades, cityscapes, maps, edges2shoes,
            edges2handbags, night2day), or any name together with ``url``.
        cache_dir: where to keep it (on Colab, a Google Drive folder survives disconnects).
        url: another address (``http(s)://`` or ``file://``); default
            ``http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/<name>.tar.gz``.
        sha256: the expected SHA-256 of the archive. Defaults to the pinned one, but no checksum
            for these archives was published that we could find, so by default it is ``None``:
            the archive is then not verified and its hash is printed for you to pin.
        progress: show a progress bar.
        keep_archive: keep the ``.tar.gz`` next to the folder.

    Raises:
        ValueError: unknown name without ``url``; checksum mismatch (the download is deleted);
            an archive member that would be written outside ``cache_dir``.
        ConnectionError: the address cannot be fetched.
    """
    if url is None and name not in PIX2PIX_DATASETS:
        raise ValueError(f"Unknown pix2pix dataset {name!r}. Choose one of {', '.join(PIX2PIX_DATASETS)} "
                         "or pass url=... for another archive.")
    url = url or PIX2PIX_BASE_URL.format(name=name)
    expected = sha256 or (PIX2PIX_DATASETS[name].sha256 if name in PIX2PIX_DATASETS else None)
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    final = cache_dir / name
    done_marker = final / ".download_complete"
    if done_marker.is_file():
        return final

    archive = cache_dir / f"{name}.tar.gz"
    got = download_checked(url, archive, expected, progress)

    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir))
    try:
        extract_archive(archive, staging)
        entries = list(staging.iterdir())
        # The archives hold one top folder named after the dataset; accept a flat archive too.
        source = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        if final.exists():
            shutil.rmtree(final)
        shutil.move(str(source), str(final))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not keep_archive:
            archive.unlink(missing_ok=True)
    done_marker.write_text(f"{url}\nsha256 {got}\n")
    return final
