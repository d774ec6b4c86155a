"""Before publishing a release: check, offline, everything a learner's Colab session will fetch.

    python scripts/release_check.py          # `make release-check`

It checks that
  * every lesson's badge, install line and setup cell point at ``REPO_URL`` @ ``PINNED_REF``
    (``scripts/check_notebooks.py``), and so do the Colab links and ``git+`` lines in
    README.md and docs/;
  * ``PINNED_REF`` is ``v`` + the package version (pyproject.toml and ``course_utils.__version__``);
  * the tag ``PINNED_REF`` exists in this clone and holds the same lessons, package and data as
    the checkout (what Colab installs is what you tested);
  * the wheel builds without the network, carries every shipped data file byte for byte, and
    stays under 15 MB.

It cannot check that the tag was pushed to the public repository: do that by hand (README).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import check_notebooks  # noqa: E402
import course_utils  # noqa: E402
from course_utils.lessons.config import PINNED_REF, REPO_URL  # noqa: E402

MAX_WHEEL_MB = 15
#: Where the shipped data sits in the wheel (pyproject.toml maps data/ onto it).
WHEEL_DATA = "course_utils/shipped_data/"
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/([^/\s]+/[^/\s]+)/blob/([^/\s]+)/")


def check_links() -> list[str]:
    """Lessons (badges, pip lines, setup cell), then README.md and docs/*.md."""
    problems = check_notebooks.check()
    repo = REPO_URL.removeprefix("https://github.com/")
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for where, ref in COLAB_LINK.findall(text):
            if (where, ref) != (repo, PINNED_REF):
                problems.append(f"{path.name}: Colab link to {where}@{ref}, expected {repo}@{PINNED_REF}")
        for url, ref in check_notebooks.PIP_RE.findall(text):
            if (url, ref) != (REPO_URL, PINNED_REF):
                problems.append(f"{path.name}: installs {url}@{ref}, expected {REPO_URL}@{PINNED_REF}")
    return problems


def check_version() -> list[str]:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    problems = []
    if PINNED_REF != f"v{version}":
        problems.append(f"PINNED_REF is {PINNED_REF} but pyproject.toml's version is {version}: "
                        f"set one to match the other (tag v{version})")
    if course_utils.__version__ != version:
        problems.append(f"course_utils.__version__ is {course_utils.__version__}, pyproject.toml says {version}")
    return problems


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


def check_tag() -> list[str]:
    if _git("rev-parse", "--verify", "--quiet", f"refs/tags/{PINNED_REF}").returncode != 0:
        return [f"the tag {PINNED_REF} does not exist in this clone: commit, then `git tag {PINNED_REF}` "
                "(README: Publishing a release)"]
    diff = _git("diff", "--stat", PINNED_REF, "--", "course_utils", "data", "notebooks", "pyproject.toml")
    if diff.returncode != 0:
        return [f"git diff against {PINNED_REF} failed: {diff.stderr.strip()}"]
    if diff.stdout.strip():
        return [f"the tag {PINNED_REF} differs from this checkout in what Colab installs; move the tag "
                f"(or bump the version) after committing:\n{diff.stdout.rstrip()}"]
    return []


def build_wheel(out_dir: Path) -> Path:
    """Build the wheel offline (setuptools from this environment); raise with pip's output on failure.

    It is built from a copy of what goes into it, so no other build's ``build/`` folder is used.
    """
    src = out_dir / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("course_utils", "data"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "--no-index", "--wheel-dir", str(out_dir), str(src)],
                          capture_output=True, text=True)
    wheels = sorted(out_dir.glob("course_utils-*.whl"))
    if done.returncode != 0 or not wheels:
        raise RuntimeError("the wheel did not build:\n" + done.stdout[-3000:] + done.stderr[-3000:])
    return wheels[0]


def shipped_files() -> dict[str, str]:
    """Relative path -> sha256 of each data file the package must carry: every file in the
    repository's data/ but its scripts (a new folder missing from pyproject.toml's package-data
    shows up as missing from the wheel)."""
    data = ROOT / "data"
    files = sorted(p for p in data.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc"))
    return {p.relative_to(data).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def check_wheel(wheel: Path) -> list[str]:
    problems = []
    size_mb = wheel.stat().st_size / 1e6
    if size_mb >= MAX_WHEEL_MB:
        problems.append(f"{wheel.name} is {size_mb:.1f} MB, over the {MAX_WHEEL_MB} MB budget")
    with zipfile.ZipFile(wheel) as zf:
        carried = {name[len(WHEEL_DATA):]: hashlib.sha256(zf.read(name)).hexdigest()
                   for name in zf.namelist() if name.startswith(WHEEL_DATA) and not name.endswith(".py")}
        names = set(zf.namelist())
    expected = shipped_files()
    missing = sorted(set(expected) - set(carried))
    differ = sorted(n for n in expected if n in carried and carried[n] != expected[n])
    if not expected:
        problems.append("data/ holds no shipped data: run `make data`")
    if missing:
        problems.append(f"{wheel.name} lacks {len(missing)} data files, e.g. {missing[:3]}")
    if differ:
        problems.append(f"{wheel.name} carries different bytes for {differ[:3]}")
    for module in ("course_utils/lessons/config.py", "course_utils/tools/install.py"):
        if module not in names:
            problems.append(f"{wheel.name} lacks {module}")
    return problems


def main() -> int:
    problems: list[str] = []
    for name, check in [("links", check_links), ("version", check_version), ("tag", check_tag)]:
        found = check()
        print(f"{'FAIL' if found else 'ok  '} {name}")
        problems += found
    with tempfile.TemporaryDirectory() as tmp:
        try:
            wheel = build_wheel(Path(tmp))
            found = check_wheel(wheel)
            print(f"{'FAIL' if found else 'ok  '} wheel {wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB, "
                  f"{len(shipped_files())} data files")
        except RuntimeError as err:
            found = [str(err)]
            print("FAIL wheel")
        problems += found
    for p in problems:
        print("FAIL:", p)
    print("release check: " + ("ready to publish (push the branch and the tag)" if not problems
                               else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
