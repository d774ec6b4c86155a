"""Drive the explorers headlessly: set a control, check that the picture and numbers change.

The same tests also run against ipywidgets 7.7 (the version on Colab) in a subprocess, with
ipywidgets 7.7 installed by ``make install`` into ``.venv/ipywidgets7`` and put first on
PYTHONPATH (see ``test_the_widget_tests_pass_under_ipywidgets_7_7``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib

matplotlib.use("Agg")

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from course_utils import widgets

REPO = Path(__file__).resolve().parents[1]
IPYWIDGETS7 = Path(os.environ.get("COURSE_IPYWIDGETS7", REPO / ".venv" / "ipywidgets7"))
PIP_LINE = (
    '.venv/bin/python -m pip install -q --no-deps --upgrade --target .venv/ipywidgets7 '
    '"ipywidgets==7.7.*" "ipython_genutils==0.2.*"'
)
INNER_RUN = "COURSE_IPYWIDGETS7_INNER"


@pytest.fixture(autouse=True)
def _no_open_figures():
    plt.close("all")   # only what this test leaves counts (an earlier test file in this process may leave figures)
    yield
    assert plt.get_fignums() == [], "an explorer left a pyplot figure open"


def _png_size(data: bytes) -> tuple[int, int]:
    import io

    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG"
        return im.size


def test_loss_explorer_redraws_and_flags_saturation():
    ex = widgets.loss_explorer(-5.0)
    assert isinstance(ex, ipywidgets.VBox)
    assert ex.last_error is None
    before_png, before_text = ex.image.value, ex.info.value
    _png_size(before_png)
    # At a = -5, D = sigmoid(-5) = 0.0067: the minimax gradient -D has vanished.
    assert "0.007" in before_text and "(saturated)" in before_text
    ex.controls["d_output"].value = 0.0
    assert ex.image.value != before_png
    assert "sigmoid(a) = 0.500" in ex.info.value and "(saturated)" not in ex.info.value
    ex.controls["d_output"].value = 5.0  # D is fooled: now the non-saturating BCE flattens out
    assert "-log D</td><td>0.007</td><td>-0.007 <b>(saturated)" in ex.info.value
    with pytest.raises(ValueError, match="span"):
        widgets.loss_explorer(10.0)


def test_sample_browser_shows_the_saved_files_in_step_order(tmp_path):
    for step, colour in [(200, "red"), (10, "blue"), (1000, "green")]:
        Image.new("RGB", (8, 8), colour).save(tmp_path / f"step_{step}.png")
    ex = widgets.sample_browser(tmp_path)
    assert ex.image.value == (tmp_path / "step_10.png").read_bytes()
    assert ex.controls["index"].max == 2 and ex.play.max == 2
    ex.controls["index"].value = 2
    assert ex.image.value == (tmp_path / "step_1000.png").read_bytes()
    assert "step_1000.png (3 of 3)" in ex.info.value
    paths = [tmp_path / "step_1000.png", tmp_path / "step_200.png"]
    assert widgets.sample_browser(paths).image.value == paths[0].read_bytes()


def test_patchgan_explorer_moves_the_patch_with_the_cell():
    image = np.random.default_rng(0).uniform(-1, 1, (256, 256, 3)).astype(np.float32)
    logits = np.zeros((1, 30, 30, 1), np.float32)
    logits[0, 0, 0, 0] = 2.0
    ex = widgets.patchgan_explorer(image, logits)
    assert ex.controls["row"].max == 29 and ex.controls["row"].value == 15
    first = ex.image.value
    ex.controls["row"].value = 0
    ex.controls["col"].value = 0
    assert ex.image.value != first
    assert "rows 0..46 and columns 0..46" in ex.info.value and "cut by the image border" in ex.info.value
    assert "P(real) = 0.881" in ex.info.value  # sigmoid(2)
    # Without logits, a small image uses the course's smaller PatchGAN (6x6 grid at 32x32).
    small = widgets.patchgan_explorer(image[:32, :32])
    assert small.controls["col"].max == 5 and "34x34 field" in small.info.value


def test_translation_explorer_runs_the_generators_and_reports_errors():
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.5, 0.5, (3, 16, 16, 3)).astype(np.float32)
    calls = []

    def g(batch):  # X -> Y: a colour flip
        calls.append(len(batch))
        return -np.asarray(batch)

    def f(batch):  # Y -> X: almost the inverse, off by 0.1
        return -np.asarray(batch) + 0.1

    ex = widgets.translation_explorer(x, g, f, targets=-x)
    assert ex.last_error is None, ex.last_error
    assert "|G(x) - true target| = 0.0000" in ex.info.value
    assert "cycle |F(G(x)) - x| = 0.1000" in ex.info.value
    first = ex.image.value
    ex.controls["index"].value = 2
    assert ex.image.value != first and "test image 2" in ex.info.value
    ex.controls["index"].value = 0  # cached: G is not called again
    assert calls == [1, 1]
    np.testing.assert_allclose(ex.results(0)["G(x)"], -x[0])
    # Precomputed translations work too, and a broken generator shows its error.
    pre = widgets.translation_explorer(x, -x)
    assert "no target or backward" in pre.info.value
    broken = widgets.translation_explorer(x, lambda b: np.asarray(b) * 300)
    assert isinstance(broken.last_error, ValueError) and "127.5" in broken.info.value
    with pytest.raises(ValueError, match="one per image"):
        widgets.translation_explorer(x, -x[:2])


@pytest.mark.slow  # runs this file again in a subprocess
def test_the_widget_tests_pass_under_ipywidgets_7_7(tmp_path):
    """Colab ships ipywidgets 7.7: run this file again with it first on PYTHONPATH."""
    if os.environ.get(INNER_RUN):
        pytest.skip("this is the ipywidgets 7.7 run itself")
    if ipywidgets.__version__.startswith("7.7"):
        pytest.skip("this run already uses ipywidgets 7.7 (make colab-check)")
    if not (IPYWIDGETS7 / "ipywidgets").is_dir():
        message = f"ipywidgets 7.7 is not installed in {IPYWIDGETS7}; run `make install` or: {PIP_LINE}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(IPYWIDGETS7), os.environ.get("PYTHONPATH", "")]),
               MPLBACKEND="Agg", **{INNER_RUN: "1"})
    version = subprocess.run([sys.executable, "-c", "import ipywidgets; print(ipywidgets.__version__)"],
                             env=env, capture_output=True, text=True, timeout=900)
    assert version.stdout.strip().startswith("7.7"), version.stdout + version.stderr
    report = tmp_path / "ipywidgets7.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", str(Path(__file__))],
        env=env, capture_output=True, text=True, timeout=900, cwd=REPO,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # Every other test of this file ran and passed under 7.7 (read from pytest's own report).
    cases = ElementTree.parse(report).getroot().iter("testcase")
    outcome = {case.get("name"): [child.tag for child in case] for case in cases}
    others = sorted(name for name in globals() if name.startswith("test_") and name != _this_test())
    assert sorted(outcome) == sorted(others + [_this_test()]), outcome
    assert all(outcome[name] == [] for name in others), outcome           # no failure, error or skip
    assert outcome[_this_test()] == ["skipped"], outcome


def _this_test() -> str:
    return test_the_widget_tests_pass_under_ipywidgets_7_7.__name__
