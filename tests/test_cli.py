"""Tests of ``python -m course_utils``: train (with a kill and a resume), translate, bench, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dataclasses

import keras
import numpy as np
import pytest
from PIL import Image

from course_utils import cli, registry, runs, train

REPO = Path(__file__).resolve().parent.parent


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), err
    assert "Traceback" not in err


# ---------------------------------------------------------------------------
# Help and bad arguments
# ---------------------------------------------------------------------------
def test_every_option_of_every_command_has_help(capsys):
    parser = cli.build_parser()
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    assert set(subcommands) == {"train", "translate", "evaluate", "bench", "grade"}
    for name, sub in subcommands.items():
        assert sub.description, name
        for action in sub._actions:
            assert action.help and len(action.help) > 10, (name, action.dest)
    code, out, _ = run_main(["train", "--help"], capsys)
    assert code == 0 and "gan,pix2pix,cyclegan" in out
    code, out, _ = run_main(["train", "pix2pix", "--help"], capsys)
    assert code == 0
    for option in ("--data", "--out", "--steps", "--image-size", "--batch-size", "--checkpoint-every", "--seed",
                   "--precision", "--xla", "--filters", "--tfds"):
        assert option in out, option


@pytest.mark.parametrize("argv, fragment", [
    (["train", "pix2pix", "--data", "shipped", "--steps", "3"], "--out"),
    (["train", "pix2pix", "--data", "shipped", "--out", "x", "--steps", "0"], "positive integer"),
    (["train", "pix2pix", "--data", "shipped", "--out", "x", "--steps", "3", "--precision", "half"], "--precision"),
    (["train", "gan", "--data", "shipped", "--out", "x", "--steps", "3", "--image-size", "64"],
     "unrecognized arguments: --image-size 64"),   # the DCGAN's digits are 28x28: gan has no such flag
    (["train", "cyclegan", "--out", "x", "--steps", "3"], "exactly one of"),
    (["train", "pix2pix", "--data", "shipped", "--out", "x", "--steps", "3", "--image-size", "48"], "power of two"),
    (["translate", "--model", "nowhere", "--input", "x", "--output", "y"], "no such file"),
    (["train", "cyclegan", "--data", "shipped", "--out", "x", "--steps", "3", "--direction", "BtoA"],
     "unrecognized arguments: --direction BtoA"),   # a cyclegan learns both directions
    (["train", "gan", "--data", "shipped", "--out", "x", "--steps", "3", "--val", "v"], "--val is for models that validate; gan does not"),
    (["train", "gan", "--data", "shipped", "--out", "x", "--steps", "3", "--skip-bad-files"], "--skip-bad-files do not apply"),
    (["train", "pix2pix", "--data", "shipped", "--out", "x", "--steps", "3", "--n-blocks", "3"],
     "unrecognized arguments: --n-blocks 3"),        # pix2pix's U-Net has no residual blocks
    (["train", "cyclegan", "--data", "shipped", "--out", "x", "--steps", "3", "--n-blocks", "0"], "positive integer"),
    (["train", "pix2pix", "--data", "notes.txt", "--out", "x", "--steps", "3"], "not a dataset archive"),
    (["train", "pix2pix", "--data", "gone.zip", "--out", "x", "--steps", "3"], "no such folder or archive"),
    (["fly"], "invalid choice"),
])
def test_bad_arguments_give_one_line_and_a_non_zero_exit(argv, fragment, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not data")
    code, out, err = run_main(argv, capsys)
    assert code != 0 and out == ""
    assert_one_line_error(err)
    assert fragment in err


def test_bad_data_gives_one_line_and_a_non_zero_exit(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run_main(["train", "pix2pix", "--data", str(empty), "--out", str(tmp_path / "o"),
                               "--steps", "2"], capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err)
    assert "train" in err                              # the data module names the missing split
    broken = tmp_path / "broken" / "train"
    broken.mkdir(parents=True)
    (broken / "0.jpg").write_bytes(b"not a jpeg at all")
    code, out, err = run_main(["train", "pix2pix", "--data", str(broken.parent), "--out", str(tmp_path / "o2"),
                               "--steps", "2"], capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err)
    assert "0.jpg" in err


# ---------------------------------------------------------------------------
# bench: its options, the standard set, and one tiny run end to end
# ---------------------------------------------------------------------------
@pytest.fixture
def recorded_runs(monkeypatch):
    """bench.run_bench replaced by a recorder: what the command would measure, without measuring it."""
    from course_utils import bench

    runs = []

    def fake_run_bench(**run):
        runs.append(run)
        return {"model": run["model"]}

    monkeypatch.setattr(bench, "run_bench", fake_run_bench)
    return runs


def test_bench_standard_runs_the_standard_set(recorded_runs, capsys):
    from course_utils import bench

    code, out, err = run_main(["bench", "--standard", "--json"], capsys)
    assert code == 0, err
    common = {"xla": False, "precision": "float32", "pipeline": True, "trainer": True}
    assert recorded_runs == [{**run, **common} for run in bench.STANDARD_RUNS]
    assert json.loads(out) == {"runs": [{"model": "pix2pix"}, {"model": "cyclegan"}]}


def test_bench_standard_keeps_every_option_given_even_one_equal_to_a_default(recorded_runs, capsys):
    # 256 and 5 are the defaults of a single run, and 2 the standard pix2pix warm-up: given, they still count.
    code, _, err = run_main(["bench", "--standard", "--image-size", "256", "--steps", "5", "--warmup", "2",
                             "--no-pipeline", "--json"], capsys)
    assert code == 0, err
    assert [(r["model"], r["image_size"], r["steps"], r["warmup"], r["repeats"]) for r in recorded_runs] == [
        ("pix2pix", 256, 5, 2, 3), ("cyclegan", 256, 5, 2, 3)]
    assert all(r["pipeline"] is False for r in recorded_runs)


def test_bench_single_run_passes_only_what_was_given(recorded_runs, capsys):
    code, _, err = run_main(["bench", "--model", "cyclegan", "--batch-size", "2", "--precision", "mixed_bfloat16",
                             "--xla", "--no-trainer", "--json"], capsys)
    assert code == 0, err
    assert recorded_runs == [{"model": "cyclegan", "batch_size": 2, "xla": True, "precision": "mixed_bfloat16",
                              "pipeline": True, "trainer": False}]
    recorded_runs.clear()
    assert run_main(["bench", "--json"], capsys)[0] == 0
    assert recorded_runs[0]["model"] == "pix2pix"


@pytest.mark.parametrize("argv, fragment", [
    (["--steps", "0"], "argument --steps: expected a positive integer, got 0"),
    (["--repeats", "two"], "argument --repeats: expected a positive integer, got 'two'"),
    (["--warmup", "-1"], "argument --warmup: expected a non-negative integer, got -1"),
    (["--batch-size", "0"], "argument --batch-size: expected a positive integer"),
    (["--filters", "-4"], "argument --filters: expected a positive integer"),
    (["--image-size", "0"], "argument --image-size: expected a positive integer"),
    (["--precision", "float16"], "expected one of float32, mixed_float16, mixed_bfloat16, got 'float16'"),
    (["--model", "gan", "--image-size", "64"], "--image-size is fixed at 28 for gan"),
    (["--standard", "--model", "pix2pix"], "--standard times pix2pix and cyclegan; leave out --model"),
])
def test_bench_bad_arguments_give_one_line_and_exit_2(argv, fragment, recorded_runs, capsys):
    code, out, err = run_main(["bench", *argv], capsys)
    assert code == 2 and out == ""
    assert_one_line_error(err)
    assert fragment in err
    assert recorded_runs == []                          # nothing was measured


def test_bench_prints_one_json_line_or_a_table_and_writes_json_out(tmp_path, capsys):
    # The baseline alone (tests/test_bench.py times the trainer against it): a real, tiny run.
    tiny = ["--model", "pix2pix", "--image-size", "32", "--filters", "4", "--steps", "2", "--repeats", "2",
            "--warmup", "1", "--no-pipeline", "--no-trainer"]
    saved = tmp_path / "b.json"
    code, out, err = run_main(["bench", *tiny, "--json", "--json-out", str(saved)], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result == json.loads(saved.read_text())
    assert (result["model"], result["image_size"], result["filters"], result["steps"]) == ("pix2pix", 32, 4, 2)
    assert result["trainer"] is None and result["ratio"] is None and result["step_seconds_of"] == "baseline"

    code, out, err = run_main(["bench", *tiny, "--json-out", str(tmp_path / "t.json")], capsys)
    assert code == 0, err
    assert "baseline s" in out and "trainer not timed" in out and f"written: {tmp_path / 't.json'}" in out


# ---------------------------------------------------------------------------
# train: in-process runs of the three models
# ---------------------------------------------------------------------------
def test_train_gan_writes_the_run_folder_and_one_json_line(capsys, tmp_path):
    out_dir = tmp_path / "run"
    argv = ["train", "gan", "--data", "shipped", "--out", str(out_dir), "--steps", "2", "--checkpoint-every", "1",
            "--quiet", "--filters", "4", "--batch-size", "8"]
    code, out, err = run_main(argv, capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["step"] == 2 and result["resumed_from"] == 0
    assert set(result["losses"]) == {"d_loss", "g_loss"} and all(np.isfinite(v) for v in result["losses"].values())
    assert [p.name for p in (out_dir / "export").glob("*.keras")] == ["generator.keras"]
    assert sorted(p.name for p in (out_dir / "samples").glob("*.png")) == [
        "step_000000.png", "step_000001.png", "step_000002.png"]
    assert json.loads((out_dir / "run_settings.json").read_text())["settings"]["model"] == "gan"
    # The same command again: nothing left to do, but it still says where the run stands.
    code, out, _ = run_main(argv, capsys)
    assert code == 0 and json.loads(out)["resumed_from"] == 2 and json.loads(out)["step"] == 2


def config_of(argv: list[str], stored: dict | None = None):
    """The spec and the config ``python -m course_utils <argv>`` trains with (``stored``: a run's stored settings)."""
    args = cli.build_parser().parse_args(argv)
    spec = registry.get(args.model)
    return spec, cli._config(spec, args, stored)


def test_cyclegan_command_builds_the_papers_setup_on_shipped_data(tmp_path):
    spec, cfg = config_of(["train", "cyclegan", "--data", "shipped", "--out", str(tmp_path), "--steps", "10",
                           "--image-size", "16", "--batch-size", "2", "--filters", "4"])
    dataset, (xs, ys) = spec.load_data(cfg, registry.DataSource("shipped"))
    x, y = next(iter(dataset))
    assert x.shape == y.shape == (2, 16, 16, 3) and xs.shape == ys.shape == (2, 16, 16, 3)
    trainer = spec.build_trainer(cfg, spec.build_networks(cfg))
    assert isinstance(trainer, train.CycleGAN) and trainer.loss_form == "lsgan"
    assert trainer.pool_x.pool_size == 50 and trainer.cycle_weight == 10 and trainer.identity_weight == 5
    schedule = trainer.optimizers["generator_g"].get_config()["learning_rate"]
    assert schedule["class_name"] == "LinearDecay"                          # half constant, half decaying
    assert (schedule["config"]["constant_steps"], schedule["config"]["decay_steps"]) == (5, 5)
    assert set(trainer.generators()) == {"generator_g", "generator_f"}


# ---------------------------------------------------------------------------
# train: killed with SIGKILL in the middle, then resumed by the same command
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_train_survives_sigkill_and_the_same_command_resumes(tmp_path):
    out_dir = tmp_path / "run"
    command = [sys.executable, "-m", "course_utils", "train", "pix2pix", "--data", "shipped", "--out", str(out_dir),
               "--steps", "12", "--image-size", "32", "--filters", "4", "--batch-size", "2",
               "--checkpoint-every", "1", "--seed", "3"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    index = out_dir / "checkpoints" / "checkpoint"
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO)
    deadline = time.time() + 600
    while not index.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.15)                               # into the following steps and saves
    proc.send_signal(signal.SIGKILL)
    stdout, _ = proc.communicate(timeout=600)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert stdout == b""                           # no JSON line from a killed run

    # The latest checkpoint named in the index is complete and loads.
    spec, cfg = config_of(command[3:])
    trainer = spec.build_trainer(cfg, spec.build_networks(cfg))
    killed_at = runs.restore(trainer, out_dir)
    assert 1 <= killed_at < 12

    done = subprocess.run(command, capture_output=True, env=env, cwd=REPO, timeout=900)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    lines = done.stdout.decode().strip().splitlines()
    assert len(lines) == 1                         # exactly one line on stdout
    result = json.loads(lines[0])
    assert result["resumed_from"] == killed_at and result["step"] == 12
    assert set(result["losses"]) == {"d_loss", "g_loss", "g_adv", "g_l1"}
    rows = json.loads((out_dir / "history.json").read_text())
    assert [r["step"] for r in rows] == list(range(1, 13))          # every step once, none lost or doubled
    assert (out_dir / "export" / "generator.keras").exists()


# ---------------------------------------------------------------------------
# translate: user images of any size and mode
# ---------------------------------------------------------------------------
def channel_map_model(size: int, scale: float) -> keras.Model:
    """A 'generator' whose output is scale * input (a 1x1 conv), so results are predictable."""
    inp = keras.Input((size, size, 3))
    conv = keras.layers.Conv2D(3, 1, use_bias=False)
    model = keras.Model(inp, conv(inp))
    conv.kernel.assign(scale * np.eye(3, dtype="float32")[None, None])
    return model


def write_user_images(folder: Path) -> dict[str, tuple[tuple[int, int], str]]:
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (53, 37, 3), dtype=np.uint8)).save(folder / "photo.jpg")
    Image.fromarray(np.full((20, 71), 200, np.uint8), "L").save(folder / "gray.png")
    rgba = np.zeros((33, 45, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 128
    Image.fromarray(rgba, "RGBA").save(folder / "clear.png")
    (folder / "notes.txt").write_text("not an image, ignored")
    return {"photo.jpg": ((37, 53), "RGB"), "gray.png": ((71, 20), "RGB"), "clear.png": ((45, 33), "RGBA")}


def test_translate_restores_each_images_size_and_name(tmp_path, capsys):
    export = tmp_path / "run" / "export"
    export.mkdir(parents=True)
    channel_map_model(16, -1.0).save(export / "generator_g.keras")     # A -> B inverts colours
    channel_map_model(16, 1.0).save(export / "generator_f.keras")      # B -> A leaves them
    expected = write_user_images(tmp_path / "mine")
    code, out, err = run_main(["translate", "--model", str(tmp_path / "run"), "--input", str(tmp_path / "mine"),
                               "--output", str(tmp_path / "out")], capsys)
    assert code == 0, err
    assert json.loads(out)["translated"] == 3 and json.loads(out)["model"].endswith("generator_g.keras")
    for name, (size, mode) in expected.items():
        image = Image.open(tmp_path / "out" / name)
        assert image.size == size and image.mode == mode, name
    gray = np.asarray(Image.open(tmp_path / "out" / "gray.png"), np.float32)
    assert np.allclose(gray, 255 - 200, atol=2)                       # inverted: 200 -> 55
    clear = np.asarray(Image.open(tmp_path / "out" / "clear.png"))
    assert np.all(clear[..., 3] == 128) and np.allclose(clear[..., :3], [0, 255, 255], atol=2)   # alpha kept

    code, out, err = run_main(["translate", "--model", str(export), "--input", str(tmp_path / "mine" / "gray.png"),
                               "--output", str(tmp_path / "back"), "--direction", "BtoA"], capsys)
    assert code == 0, err
    assert np.allclose(np.asarray(Image.open(tmp_path / "back" / "gray.png"), np.float32), 200, atol=2)


def test_translate_refuses_a_direction_a_one_way_model_lacks(tmp_path, capsys):
    channel_map_model(16, 1.0).save(tmp_path / "generator.keras")
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((5, 7, 3), np.uint8)).save(image)
    code, out, err = run_main(["translate", "--model", str(tmp_path), "--input", str(image), "--output",
                               str(tmp_path / "o"), "--direction", "BtoA"], capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err)
    assert "one way" in err
    code, out, err = run_main(["translate", "--model", str(tmp_path / "generator.keras"), "--input",
                               str(image), "--output", str(tmp_path / "o")], capsys)
    assert code == 0 and Image.open(tmp_path / "o" / "x.png").size == (7, 5)


# ---------------------------------------------------------------------------
# evaluate: metrics.json and a picture report from a run folder or an export
# ---------------------------------------------------------------------------
def write_inverted_pairs(folder: Path, n: int, size: int = 16) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(np.concatenate([a, 255 - a], axis=1)).save(folder / f"{i:02d}.png")


def test_evaluate_pix2pix_run_uses_its_direction_and_prints_one_json_line(tmp_path, capsys):
    run = tmp_path / "run"
    (run / "export").mkdir(parents=True)
    channel_map_model(16, -1.0).save(run / "export" / "generator.keras")        # the exact inverse
    (run / "run_settings.json").write_text(json.dumps({"settings": {"model": "pix2pix", "direction": "BtoA"}}))
    write_inverted_pairs(tmp_path / "data" / "test", n=9)
    code, out, err = run_main(["evaluate", "--model", str(run), "--data", str(tmp_path / "data"),
                               "--out", str(tmp_path / "report"), "--batch-size", "4", "--quiet"], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["kind"] == "pix2pix" and result["images"] == 9 and result["l1"] < 1e-5
    saved = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert saved["direction"] == "BtoA" and saved["data"].endswith("test") and len(saved["per_image"]) == 9
    assert (tmp_path / "report" / "index.html").is_file() and len(list((tmp_path / "report" / "grids").iterdir())) == 2
    # Never into the run folder itself.
    code, out, err = run_main(["evaluate", "--model", str(run), "--data", str(tmp_path / "data"),
                               "--out", str(run)], capsys)
    assert code == 1 and out == "" and "holds training output" in err
    assert_one_line_error(err)


def test_evaluate_cyclegan_on_two_folders_and_on_a_zip(tmp_path, capsys):
    import zipfile

    export = tmp_path / "export"
    export.mkdir()
    channel_map_model(16, -1.0).save(export / "generator_g.keras")
    channel_map_model(16, -1.0).save(export / "generator_f.keras")
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(tmp_path / "mine.zip", "w") as archive:
        for domain in "AB":
            (tmp_path / domain).mkdir()
            for i in range(3):
                image = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
                Image.fromarray(image).save(tmp_path / domain / f"{i}.png")
                archive.write(tmp_path / domain / f"{i}.png", f"mine/test{domain}/{i}.png")
    code, out, err = run_main(["evaluate", "--model", str(export), "--data", str(tmp_path / "A"), "--data-b",
                               str(tmp_path / "B"), "--out", str(tmp_path / "r1"), "--quiet"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["kind"] == "cyclegan" and result["images"] == {"A": 3, "B": 3}
    assert result["cycle_error"] < 1e-5 and result["identity_error"] > 0.1       # -(-x) = x, but -x != x
    code, out, err = run_main(["evaluate", "--model", str(export), "--data", str(tmp_path / "mine.zip"),
                               "--out", str(tmp_path / "r2"), "--quiet"], capsys)
    assert code == 0, err
    assert json.loads(out)["cycle_error"] == pytest.approx(result["cycle_error"], abs=1e-6)


@pytest.mark.parametrize("extra, fragment", [
    (["--data-b", "x"], "--data-b is for a cyclegan model"),
    (["--split", "val"], "none of the sub-folders val (found: ['test'])"),
])
def test_evaluate_errors_are_one_line(tmp_path, capsys, extra, fragment):
    channel_map_model(16, 1.0).save(tmp_path / "generator.keras")
    write_inverted_pairs(tmp_path / "data" / "test", n=1)
    argv = ["evaluate", "--model", str(tmp_path / "generator.keras"), "--data", str(tmp_path / "data"),
            "--out", str(tmp_path / "r")] + extra
    code, out, err = run_main(argv, capsys)
    assert code != 0 and out == ""
    assert_one_line_error(err)
    assert fragment in err


# ---------------------------------------------------------------------------
# train: --direction, --val, archives, and resume that cannot go wrong quietly
# ---------------------------------------------------------------------------
def test_train_direction_swaps_input_and_target(tmp_path):
    argv = ["train", "pix2pix", "--data", "shipped", "--out", str(tmp_path), "--steps", "10", "--image-size", "16"]
    spec, cfg = config_of(argv)
    assert cfg.direction == "AtoB" and config_of(argv + ["--direction", "BtoA"])[1].direction == "BtoA"
    _, (inp, tar) = spec.load_data(cfg, registry.DataSource("shipped"))
    _, (inp_b, tar_b) = spec.load_data(dataclasses.replace(cfg, direction="BtoA"), registry.DataSource("shipped"))
    np.testing.assert_array_equal(inp_b, tar)
    np.testing.assert_array_equal(tar_b, inp)


def shipped_subset_zip(tmp_path: Path) -> Path:
    """A zip of 6 shipped training pairs and 3 validation pairs, as a learner would upload it."""
    import zipfile

    from course_utils import data

    archive = tmp_path / "mine.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for split, n in (("train", 6), ("val", 3)):
            for f in sorted((data.shipped_paired_path() / split).iterdir())[:n]:
                z.write(f, f"mine/{split}/{f.name}")
    return archive


@pytest.mark.slow
def test_train_pix2pix_from_a_zip_validates_and_resumes_only_with_the_same_settings(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COURSE_UTILS_CACHE", str(tmp_path / "cache"))
    out_dir = tmp_path / "run"
    argv = ["train", "pix2pix", "--data", str(shipped_subset_zip(tmp_path)), "--out", str(out_dir), "--steps", "2",
            "--image-size", "16", "--filters", "4", "--batch-size", "2", "--checkpoint-every", "1", "--quiet",
            "--direction", "BtoA"]
    code, out, err = run_main(argv, capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["step"] == 2 and set(result["validation"]) == {"step", "val_l1", "val_psnr", "val_ssim"}
    assert result["validation"]["step"] == 2 and 0 < result["validation"]["val_l1"] < 2
    rows = json.loads((out_dir / "validation.json").read_text())
    assert [r["step"] for r in rows] == [1, 2] and rows[-1] == result["validation"]
    assert list((out_dir / "tensorboard" / "validation").glob("events.out.tfevents.*"))
    stored = runs.read_run_settings(out_dir)
    assert stored["direction"] == "BtoA" and stored["data_files"].startswith("6 files")

    # Another batch size and direction: refused, naming both, and nothing in the run changes.
    snapshot = {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    changed = [a if a not in ("2", "BtoA") else a for a in argv]
    changed[changed.index("--batch-size") + 1] = "3"
    changed[changed.index("--direction") + 1] = "AtoB"
    changed[changed.index("--steps") + 1] = "3"
    code, out, err = run_main(changed, capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err)
    assert "batch_size: stored 2, now 3" in err and "direction: stored 'BtoA', now 'AtoB'" in err
    assert "seed" not in err and "another --out" in err
    assert {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()} == snapshot

    # The same settings, one step further: resumed, validated at the new step.
    argv[argv.index("--steps") + 1] = "3"
    code, out, err = run_main(argv, capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["resumed_from"] == 2 and result["validation"]["step"] == 3
    assert [r["step"] for r in json.loads((out_dir / "validation.json").read_text())] == [1, 2, 3]


def test_n_blocks_sets_the_cyclegan_generators_residual_blocks_and_is_stored(tmp_path):
    argv = ["train", "cyclegan", "--data", "shipped", "--out", str(tmp_path / "run"), "--steps", "2",
            "--image-size", "16", "--filters", "4"]

    def generator(*extra):
        spec, cfg = config_of(argv + list(extra))
        return cfg, spec.build_networks(cfg)["generator_g"]

    def blocks(model):   # each residual block adds its input back once
        return sum(isinstance(layer, keras.layers.Add) for layer in model.layers)

    (default_cfg, default), (cfg, three) = generator(), generator("--n-blocks", "3")
    assert (blocks(default), blocks(three)) == (6, 3)          # 6: the paper's rule below 256 px
    assert default_cfg.identity()["n_blocks"] is None and cfg.identity()["n_blocks"] == 3
    _, p2p = config_of(["train", "pix2pix", "--data", "shipped", "--out", str(tmp_path / "p"), "--steps", "2"])
    assert "n_blocks" not in p2p.identity()


def stored_run(out_dir: Path, argv: list[str], step: int) -> dict:
    """The run folder as ``python -m course_utils <argv>`` leaves it at ``step`` (a checkpoint and
    run_settings.json), written without the training itself, which is not what is tested here."""
    args = cli.build_parser().parse_args(argv)
    spec = registry.get(args.model)
    cfg = cli._config(spec, args, None)
    trainer = spec.build_trainer(cfg, spec.build_networks(cfg))
    trainer.step.assign(step)
    runs.save_checkpoint(trainer, out_dir)
    settings = cli._run_settings(spec, cfg, registry.DataSource("shipped"))
    runs.write_run_settings(out_dir, {"settings": settings})
    return settings


def test_a_cyclegan_run_resumes_only_with_its_own_residual_blocks(tmp_path, capsys):
    out_dir = tmp_path / "run"
    argv = ["train", "cyclegan", "--data", "shipped", "--out", str(out_dir), "--steps", "2", "--image-size", "16",
            "--filters", "4", "--n-blocks", "2", "--quiet"]
    stored = stored_run(out_dir, argv, 2)
    assert runs.read_run_settings(out_dir) == stored and stored["n_blocks"] == 2
    argv[argv.index("--n-blocks") + 1] = "3"
    code, out, err = run_main(argv, capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err)
    assert "n_blocks: stored 2, now 3" in err and "at step 2" in err and "image_size" not in err
    assert runs.read_run_settings(out_dir) == stored                             # the run is left as it was


def test_a_resumed_cyclegan_command_keeps_its_stored_schedule(tmp_path):
    """`train cyclegan --steps N` decays over the second half of N; resumed with another N, the run keeps the
    schedule it stored (a smaller N stops early, on the same rates)."""
    argv = ["train", "cyclegan", "--data", "shipped", "--out", str(tmp_path), "--steps", "10", "--image-size", "16"]
    _, fresh = config_of(argv)
    assert (fresh.epochs, fresh.decay_epochs, fresh.steps_per_epoch) == (10, 5, 1)
    assert config_of(argv[:-3] + ["7"] + argv[-2:])[1].decay_epochs == 4          # 3 constant + 4 decaying
    argv[argv.index("--steps") + 1] = "6"
    _, resumed = config_of(argv, stored={"model": "cyclegan", **fresh.identity()})
    assert (resumed.epochs, resumed.decay_epochs) == (10, 5)                      # not 3 + 3
    assert resumed.identity() == fresh.identity()


def test_cyclegan_asked_past_its_schedule_says_how_to_train_longer(tmp_path, capsys):
    out_dir = tmp_path / "run"
    argv = ["train", "cyclegan", "--data", "shipped", "--out", str(out_dir), "--steps", "2", "--image-size", "16",
            "--filters", "4", "--quiet"]
    stored = stored_run(out_dir, argv, 2)
    assert (stored["epochs"], stored["decay_epochs"]) == (2, 1)                  # 1 constant + 1 decaying
    argv[argv.index("--steps") + 1] = "4"
    code, out, err = run_main(argv, capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err)
    assert "ends at step 2" in err and "asked for step 4" in err and "another --out" in err
    assert runs.read_run_settings(out_dir) == stored                             # the run is left as it was
