"""course_utils.core.registry: models found by name, one config per model, and a model added from tests/ alone."""

import json
import re
from pathlib import Path

import pytest

import course_utils
from course_utils import cli, registry
from course_utils.core.model_config import ModelConfig

# The package that runs: the source here, the installed wheel under colab-check (which copies tests/ away from
# the repository, where a path beside tests/ found no file and these scans passed on nothing).
PACKAGE = Path(course_utils.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_scans_below_read_the_whole_package():
    assert len(MODULES) > 40 and PACKAGE / "core" / "losses.py" in MODULES


def test_an_unknown_model_names_the_registered_ones():
    assert registry.names()[:3] == ("gan", "pix2pix", "cyclegan")
    with pytest.raises(ValueError, match="'pix2pix'.*'cyclegan'"):
        registry.get("pix2px")


def test_no_model_name_is_compared_outside_the_registry_and_the_model_modules():
    allowed = {"registry.py", "dcgan.py", "pix2pix.py", "cyclegan.py"}
    pattern = re.compile(r"""(==|!=|\bin)\s*\(?\s*["'](gan|dcgan|pix2pix|cyclegan)["']|["'](gan|dcgan|pix2pix|cyclegan)["']\s*(==|!=)""")
    assert all(pattern.search(line) for line in ('if kind == "pix2pix":', "m in ('gan', 'x')", '"cyclegan" != m'))
    found = [f"{path.name}:{n}" for path in MODULES if path.name not in allowed
             for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert found == []


def _code_lines(path: Path) -> list[str]:
    """The lines of a module with strings (docstrings too) and comments blanked out."""
    import io
    import tokenize

    lines = path.read_text().splitlines()
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if tok.type in (tokenize.STRING, tokenize.COMMENT):
            (r0, c0), (r1, c1) = tok.start, tok.end
            for r in range(r0, r1 + 1):
                a, b = (c0 if r == r0 else 0), (c1 if r == r1 else len(lines[r - 1]))
                lines[r - 1] = lines[r - 1][:a] + " " * (b - a) + lines[r - 1][b:]
    return lines


def test_each_models_defaults_are_written_once():
    """Adam's rate and beta_1, lambda_L1, the cycle weight: one line each in the whole package's code."""
    pattern = re.compile(r"(learning_rate|weight|\bw|beta_1)\b[^=(]*(=|option\(|Adam\()\s*(2e-4|100\.0|10\.0|5\.0|0\.5)\b",
                         re.I)
    found = [f"{path.relative_to(PACKAGE)}: {line.strip()}" for path in MODULES
             for line in _code_lines(path) if pattern.search(line)]
    assert [ln.split(":")[0] for ln in found] == ["core/losses.py"] * 3 + ["core/model_config.py"] * 2, found
    assert pattern.search("    l1_weight: float = 100.0,") and pattern.search("Adam(2e-4, beta_1=0.5)")


@pytest.mark.parametrize("name", ["gan", "pix2pix", "cyclegan"])
def test_every_config_round_trips_through_json(name):
    for cfg in (registry.get(name).config.paper(), registry.get(name).config.smoke()):
        assert type(cfg).from_json(json.loads(json.dumps(cfg.to_json()))) == cfg


def test_a_config_refuses_unknown_fields():
    cfg = registry.get("cyclegan").config.smoke()
    with pytest.raises(ValueError, match="does not have: wings"):
        type(cfg).from_json({**cfg.to_json(), "wings": 2})
    assert isinstance(cfg, ModelConfig) and "checkpoint_every" not in cfg.identity()


def test_a_model_registered_from_tests_trains_resumes_evaluates_and_is_benchmarked(tmp_path, capsys):
    import toy_model  # noqa: F401  (registers "toy")

    out = tmp_path / "run"
    base = ["train", "toy", "--data", "shipped", "--out", str(out), "--quiet", "--checkpoint-every", "2"]
    assert cli.main(base + ["--steps", "2", "--l1-weight", "5"]) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 2
    assert cli.main(base + ["--steps", "3"]) == 0                                   # resumes with its stored config
    assert json.loads(capsys.readouterr().out)["resumed_from"] == 2
    assert cli.main(base + ["--steps", "4", "--l1-weight", "7"]) == 1             # another setting: refused
    assert "l1_weight: stored 5.0, now 7.0" in capsys.readouterr().err
    assert cli.main(["evaluate", "--model", str(out), "--data", "shipped", "--out", str(tmp_path / "ev"),
                     "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "toy"
    assert cli.main(["bench", "--model", "toy", "--steps", "1", "--warmup", "0", "--repeats", "1", "--json",
                     "--no-pipeline"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "toy"
