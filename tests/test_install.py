"""The setup cell's installer: never TensorFlow, Keras or NumPy; only what is missing; pip's output on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_utils import install

REQUIREMENTS = [   # as in the package's metadata (pyproject.toml)
    "tensorflow>=2.16", "keras>=3.0", "tensorflow-datasets>=4.9", "numpy>=1.23", "matplotlib>=3.5",
    "ipywidgets>=7.6", "pillow>=9.0", "tqdm>=4.60", 'pytest>=7; extra == "dev"', 'nbval>=0.10; extra == "dev"',
]
COLAB = {"tensorflow": "2.20.0", "keras": "3.13.2", "numpy": "2.0.2", "tensorflow-datasets": "4.9.10",
         "matplotlib": "3.10.0", "ipywidgets": "7.7.1", "Pillow": "11.3.0", "tqdm": "4.67.1"}


def test_on_colab_nothing_is_installed_and_the_runtime_is_pinned():
    plan = install.plan(REQUIREMENTS, COLAB)
    assert plan.to_install == ()
    assert plan.problems == ()
    assert plan.constraints == ("keras==3.13.2", "numpy==2.0.2", "tensorflow==2.20.0")


def test_tensorflow_cpu_and_nightlies_meet_a_tensorflow_requirement():
    runtime = dict(COLAB, keras="", numpy="2.1.3")
    del runtime["tensorflow"], runtime["keras"]
    runtime.update({"tensorflow-cpu": "2.20.0", "keras-nightly": "3.14.0.dev2025120103"})
    plan = install.plan(REQUIREMENTS, runtime)
    assert plan.to_install == ()          # no `tensorflow` or `keras` pulled in beside them
    assert plan.problems == ()
    assert plan.constraints == ("keras-nightly==3.14.0.dev2025120103", "numpy==2.1.3", "tensorflow-cpu==2.20.0")
    nightly = {k: v for k, v in runtime.items() if k != "tensorflow-cpu"} | {"tf_nightly": "2.21.0.dev20251101"}
    assert install.plan(REQUIREMENTS, nightly).problems == ()


def test_a_provider_found_from_installed_files_counts_too():
    runtime = {k: v for k, v in COLAB.items() if k != "tensorflow"} | {"acme-tf-build": "2.20.1"}
    plan = install.plan(REQUIREMENTS, runtime, providers={"tensorflow": ["acme_tf_build"]})
    assert plan.to_install == () and plan.problems == ()
    assert "acme-tf-build==2.20.1" in plan.constraints


def test_only_missing_or_too_old_other_requirements_are_installed():
    runtime = {k: v for k, v in COLAB.items() if k != "tqdm"} | {"ipywidgets": "7.5.1"}
    plan = install.plan(REQUIREMENTS, runtime)
    assert plan.to_install == ("ipywidgets>=7.6", "tqdm>=4.60")   # never the dev extra's pytest/nbval
    assert plan.problems == ()


def test_too_old_or_missing_tensorflow_is_a_problem_never_an_install():
    old = install.plan(REQUIREMENTS, dict(COLAB, tensorflow="2.15.1"))
    assert old.to_install == ()
    assert len(old.problems) == 1 and "tensorflow 2.15.1" in old.problems[0] and ">=2.16" in old.problems[0]
    missing = install.plan(REQUIREMENTS, {k: v for k, v in COLAB.items() if k != "numpy"})
    assert missing.to_install == ()
    assert len(missing.problems) == 1 and "numpy is not installed" in missing.problems[0]


def test_changed_protected_reads_a_pip_report():
    report = {"install": [{"metadata": {"name": "tqdm", "version": "4.67.1"}},
                          {"metadata": {"name": "TensorFlow", "version": "2.21.0"}},
                          {"metadata": {"name": "acme_tf_build", "version": "9"}}]}
    protected = {"tensorflow": {"acme-tf-build": "2.20.1"}, "keras": {}, "numpy": {}}
    assert install.changed_protected(report, protected) == ["tensorflow 2.21.0", "acme-tf-build 9"]
    assert install.changed_protected({"install": report["install"][:1]}, protected) == []


class FakePip:
    """Records pip calls; answers a dry run with a report installing ``would_install``."""

    def __init__(self, would_install: list[tuple[str, str]]):
        self.would_install = would_install
        self.calls: list[list[str]] = []
        self.constraints: list[str] = []

    def __call__(self, args, what):
        args = list(args)
        self.calls.append(args)
        self.constraints = Path(args[args.index("--constraint") + 1]).read_text().split()
        if "--dry-run" in args:
            report = {"install": [{"metadata": {"name": n, "version": v}} for n, v in self.would_install]}
            Path(args[args.index("--report") + 1]).write_text(json.dumps(report))


def _fake_runtime(monkeypatch, installed: dict[str, str]):
    monkeypatch.setattr(install.md, "requires", lambda name: REQUIREMENTS)
    monkeypatch.setattr(install.md, "packages_distributions", lambda: {})
    monkeypatch.setattr(install, "installed_distributions", lambda: dict(installed))


def test_install_requirements_installs_the_missing_ones_under_constraints(monkeypatch, capsys):
    _fake_runtime(monkeypatch, {k: v for k, v in COLAB.items() if k != "tqdm"})
    pip = FakePip([("tqdm", "4.67.1")])
    assert install.install_requirements(pip=pip) == ["tqdm>=4.60"]
    assert [("--dry-run" in c) for c in pip.calls] == [True, False]
    assert pip.calls[1][-1] == "tqdm>=4.60"
    assert pip.constraints == ["keras==3.13.2", "numpy==2.0.2", "tensorflow==2.20.0"]
    assert "kept tensorflow 2.20.0, keras 3.13.2, numpy 2.0.2" in capsys.readouterr().out


def test_install_requirements_refuses_when_pip_would_touch_tensorflow(monkeypatch):
    _fake_runtime(monkeypatch, {k: v for k, v in COLAB.items() if k != "tensorflow-datasets"})
    pip = FakePip([("tensorflow-datasets", "4.9.10"), ("tensorflow", "2.21.0")])
    with pytest.raises(install.InstallError, match="would also install tensorflow 2.21.0"):
        install.install_requirements(pip=pip)
    assert len(pip.calls) == 1            # the dry run only: nothing was installed


def test_install_requirements_stops_on_an_old_runtime(monkeypatch):
    _fake_runtime(monkeypatch, dict(COLAB, keras="2.15.0"))
    pip = FakePip([])
    with pytest.raises(install.InstallError, match=r"(?s)cannot run on this runtime.*keras 2\.15\.0.*>=3\.0"):
        install.install_requirements(pip=pip)
    assert pip.calls == []


def test_this_environment_needs_nothing(capsys):
    def no_pip(args, what):
        raise AssertionError(f"pip should not run: {args}")

    assert install.install_requirements(pip=no_pip) == []
    assert "nothing else needed" in capsys.readouterr().out


def test_a_pip_failure_shows_pips_own_output():
    with pytest.raises(install.InstallError) as err:
        install.run_pip(["install", "--no-index", "--no-deps", "no-such-package-for-the-course==1.0"],
                        "install a package that does not exist")
    message = str(err.value)
    assert "pip could not install a package that does not exist" in message
    assert "no-such-package-for-the-course" in message.split("Its output:")[1]
    assert "CalledProcessError" not in message


def test_an_uninstalled_distribution_is_a_clear_error():
    with pytest.raises(install.InstallError, match="not installed"):
        install.install_requirements("no-such-distribution-for-the-course")


def test_the_setup_cell_shows_pips_output_when_the_install_fails(monkeypatch, tmp_path):
    from course_utils import config

    cell = config.setup_cell()
    assert config.package_requirement() in cell and "--no-deps" in cell
    # The same cell, on a pretend Colab, installing from a folder that does not exist.
    missing = tmp_path / "no-such-checkout"
    cell = cell.replace(config.package_requirement(), f"course_utils @ {missing.as_uri()}")
    monkeypatch.setitem(__import__("sys").modules, "google.colab", object())
    with pytest.raises(RuntimeError) as err:
        exec(compile(cell, "setup-cell", "exec"), {})
    message = str(err.value)
    assert message.startswith("pip could not install course_utils:")
    assert "no-such-checkout" in message        # pip's own words about what went wrong
