"""Install what the course needs without touching the runtime's TensorFlow, Keras or NumPy.

Every lesson's first cell does, on Colab only::

    pip install --no-deps "course_utils @ git+<REPO_URL>@<PINNED_REF>"    # the package alone
    from course_utils import install; install.install_requirements()       # then what is missing

``--no-deps`` cannot change anything already installed. :func:`install_requirements` then
reads the package's own requirements and

1. checks those met by the runtime's TensorFlow, Keras and NumPy, whatever distribution
   provides them (``tensorflow``, ``tensorflow-cpu``, ``tf-nightly``, ``keras-nightly``...),
   and stops with a clear message if one is missing or too old: it never installs them;
2. installs only the other requirements that are missing or too old, with a pip constraints
   file pinning every installed TensorFlow/Keras/NumPy distribution to its current version,
   after a dry run has shown that pip would not add or change any of them;
3. shows pip's own output when pip fails.

This module uses the standard library only (and ``packaging``, which pip carries), because it
runs right after a ``--no-deps`` install, before any requirement is known to be there.

    python -m course_utils.tools.install            # the same from a shell
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

try:
    from packaging.requirements import Requirement
    from packaging.version import InvalidVersion, Version
except ImportError:  # a bare runtime: pip vendors the same library
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.version import InvalidVersion, Version  # type: ignore[no-redef]

#: The runtime's own libraries, by import name: never installed, upgraded or added by the course.
PROTECTED = ("tensorflow", "keras", "numpy")

#: Distributions known to provide each protected import name (more are found from the
#: installed files, see :func:`protected_distributions`).
KNOWN_PROVIDERS: dict[str, frozenset[str]] = {
    "tensorflow": frozenset({"tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel",
                             "tensorflow-macos", "tensorflow-aarch64", "tensorflow-rocm", "intel-tensorflow",
                             "tf-nightly", "tf-nightly-cpu", "tf-nightly-gpu", "tf-nightly-intel"}),
    "keras": frozenset({"keras", "keras-nightly"}),
    "numpy": frozenset({"numpy"}),
}

PIP_TIMEOUT_S = 900


class InstallError(RuntimeError):
    """The course could not be installed on this runtime; the message says why and what to do."""


def canonical(name: str) -> str:
    """PEP 503 name: ``Tensorflow_CPU`` -> ``tensorflow-cpu``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def family_of(name: str) -> str | None:
    """The protected import name a distribution provides (``tf-nightly`` -> ``tensorflow``), or None."""
    name = canonical(name)
    for module, names in KNOWN_PROVIDERS.items():
        if name in names:
            return module
    return None


@dataclass(frozen=True)
class Plan:
    """What :func:`plan` decided.

    ``to_install``: requirement strings pip should install (never a protected one);
    ``constraints``: ``name==version`` lines pinning each installed protected distribution;
    ``problems``: one sentence per protected requirement the runtime does not meet.
    """

    to_install: tuple[str, ...]
    constraints: tuple[str, ...]
    problems: tuple[str, ...]


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _meets(req: Requirement, version: str) -> bool:
    v = _version(version)
    return v is not None and req.specifier.contains(v, prereleases=True)


def protected_distributions(installed: Mapping[str, str],
                            providers: Mapping[str, Iterable[str]] | None = None) -> dict[str, dict[str, str]]:
    """For each protected import name, the installed distributions providing it and their versions.

    ``installed``: canonical name -> version; ``providers``: import name -> distribution names, as
    :func:`importlib.metadata.packages_distributions` returns (finds providers we do not know of).
    """
    providers = providers or {}
    found: dict[str, dict[str, str]] = {}
    for module in PROTECTED:
        names = set(KNOWN_PROVIDERS[module]) | {canonical(n) for n in providers.get(module, ())}
        found[module] = {n: installed[n] for n in sorted(names) if n in installed}
    return found


def plan(requirements: Iterable[str], installed: Mapping[str, str],
         providers: Mapping[str, Iterable[str]] | None = None) -> Plan:
    """Decide what to install for ``requirements`` (as in a package's metadata) given ``installed``.

    A requirement on ``tensorflow`` is met by any installed distribution providing the
    ``tensorflow`` module (``tensorflow-cpu 2.20.0`` meets ``tensorflow>=2.16``); requirements
    with a marker that does not apply (``extra == "dev"``) are skipped.
    """
    installed = {canonical(k): v for k, v in installed.items()}
    protected = protected_distributions(installed, providers)
    provider_names = {n: m for m, dists in protected.items() for n in dists}
    to_install: list[str] = []
    problems: list[str] = []
    for text in requirements:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonical(req.name)
        module = family_of(name) or provider_names.get(name)
        if module is not None:
            have = protected[module]
            if not have:
                problems.append(f"{module} is not installed. The course never installs it (on Colab it comes "
                                f"with the runtime); install it yourself: pip install '{req}'")
            elif not any(_meets(req, v) for v in have.values()):
                found = ", ".join(f"{n} {v}" for n, v in have.items())
                problems.append(f"this runtime has {found}; the course needs {module}{req.specifier}. On Colab, "
                                "Runtime > Disconnect and delete runtime gives a fresh, current one; elsewhere "
                                f"upgrade it yourself: pip install '{module}{req.specifier}'")
        elif name not in installed or not _meets(req, installed[name]):
            to_install.append(str(req))
    constraints = sorted(f"{n}=={v}" for dists in protected.values() for n, v in dists.items())
    return Plan(tuple(to_install), tuple(constraints), tuple(problems))


def changed_protected(report: Mapping, protected: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Protected distributions a pip ``--report`` would install, add or change: ``name version``."""
    known = set().union(*KNOWN_PROVIDERS.values()) | {n for dists in protected.values() for n in dists}
    bad = []
    for item in report.get("install", []):
        name, version = canonical(item["metadata"]["name"]), item["metadata"]["version"]
        if name in known:
            bad.append(f"{name} {version}")
    return bad


# ---------------------------------------------------------------------------
# Talking to pip and to the installed distributions.
# ---------------------------------------------------------------------------
def installed_distributions() -> dict[str, str]:
    """Canonical name -> version of every distribution on ``sys.path``."""
    found: dict[str, str] = {}
    for dist in md.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonical(name), dist.version)
    return found


def run_pip(args: Sequence[str], what: str) -> subprocess.CompletedProcess:
    """Run ``python -m pip <args>``; on failure raise :class:`InstallError` carrying pip's output."""
    cmd = [sys.executable, "-m", "pip", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired as err:
        raise InstallError(f"pip took more than {PIP_TIMEOUT_S} s to {what}; check the network and rerun "
                           f"the cell.\n$ {' '.join(cmd)}") from err
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()
        raise InstallError(f"pip could not {what} (exit {done.returncode}). Its output:\n"
                           + "\n".join(output[-60:]) + f"\n$ {' '.join(cmd)}")
    return done


def install_requirements(distribution: str = "course_utils", *, pip: Callable = run_pip,
                         verbose: bool = True) -> list[str]:
    """Install the missing requirements of ``distribution``, never TensorFlow, Keras or NumPy.

    Returns the requirement strings it installed (empty when the runtime had everything, as a
    fresh Colab runtime does). Raises :class:`InstallError` with the reason and the fix. With
    ``verbose`` it prints one line of what it kept and installed, the setup cell's only output.
    """
    try:
        requirements = md.requires(distribution) or []
    except md.PackageNotFoundError as err:
        raise InstallError(f"{distribution} is not installed: run the setup cell's pip install first.") from err
    installed = installed_distributions()
    providers = md.packages_distributions()
    decided = plan(requirements, installed, providers)
    if decided.problems:
        raise InstallError("The course cannot run on this runtime:\n- " + "\n- ".join(decided.problems))
    protected = protected_distributions(installed, providers)
    if decided.to_install:
        with tempfile.TemporaryDirectory() as tmp:
            constraints = Path(tmp) / "keep-runtime.txt"
            constraints.write_text("\n".join(decided.constraints) + "\n")
            common = ["install", "--quiet", "--constraint", str(constraints), *decided.to_install]
            report = Path(tmp) / "report.json"
            pip([*common, "--dry-run", "--report", str(report)], "work out what to install")
            bad = changed_protected(json.loads(report.read_text()), protected)
            if bad:
                raise InstallError("Installing " + ", ".join(decided.to_install) + " would also install "
                                   + ", ".join(bad) + ", which would replace or shadow this runtime's own "
                                   "TensorFlow/Keras/NumPy. Nothing was installed; please report this.")
            pip(common, "install " + ", ".join(decided.to_install))
        importlib.invalidate_caches()
        after = protected_distributions(installed_distributions(), md.packages_distributions())
        if after != protected:
            raise InstallError(f"pip changed the runtime's libraries ({protected} -> {after}); restart the "
                               "runtime (Runtime > Restart session) before going on.")
    if verbose:
        kept = ", ".join(f"{n} {v}" for dists in protected.values() for n, v in dists.items())
        added = ", ".join(decided.to_install) or "nothing else needed"
        print(f"{distribution}: kept {kept}; installed: {added}")
    return list(decided.to_install)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        install_requirements(*(args[:1] or ["course_utils"]))
    except InstallError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    sys.exit(main())
