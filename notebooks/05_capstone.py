# %% [markdown]
# # 05 Capstone: your own translation
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/image-to-image-gans/blob/v0.1.0/notebooks/05_capstone.ipynb)
#
# Lessons 01-04 trained GANs on datasets someone else prepared. This one is your project: you
# bring the images, choose the model, train it for real on a Colab GPU, measure what it learned
# against a baseline, and write up the result as it is, including where it fails.
#
# By the end of this lesson you will be able to:
#
# - decide between Pix2Pix and CycleGAN for a translation task of your own;
# - bring a folder (or a `.zip`) of your images into the layout the course's loaders read, and
#   fix what their checks report;
# - train with one resumable command, with checkpoints on Google Drive;
# - evaluate on held-out images with the course's metrics and picture report, next to the
#   baselines that need no learning, and find the failure cases;
# - write an honest report: steps, schedule shape, numbers, failures, scored against a rubric.
#
# The smoke profile runs the same cells on a shipped dataset at 32x32; on Colab you replace that
# dataset with yours.

# %%
# Setup: on Colab, install the course's helper package at the pinned release (with --no-deps, then only
# what is missing: Colab's TensorFlow, Keras and NumPy are never touched); elsewhere it is installed.
import subprocess, sys
if "google.colab" in sys.modules:
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "course_utils @ git+https://github.com/gan-course/image-to-image-gans@v0.1.0"],
                         capture_output=True, text=True)
    if pip.returncode:
        raise RuntimeError("pip could not install course_utils:\n" + pip.stdout + pip.stderr)
import course_utils as course   # the course's package: course.config, course.plotting, ...
if "google.colab" in sys.modules:
    course.install.install_requirements()   # what is still missing; never TensorFlow, Keras or NumPy
cfg = course.runtime.start_lesson(course.config.CapstoneConfig)   # the settings (smoke with COURSE_SMOKE=1), the GPU check, the seeds
course.costs.print_estimate(cfg)   # what the learner and paper profiles cost on a Colab T4: an estimate from FLOP counts

# %% [markdown]
# The tools: `cli` is the command line (`python -m course_utils ...`) called from Python, `data`
# reads and checks images, `metrics` scores them, `inference` runs a trained generator, and
# `capstone` holds this lesson's helpers (dataset counts, baselines, failure cases, write-up, rubric).

# %%
import json
import shutil
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from course_utils import capstone, data, inference, metrics

# %% [markdown]
# ## 1. Choose the model
#
# The question is whether your images come **in pairs**:
#
# | you have | model | what it learns | what you can measure |
# |---|---|---|---|
# | pairs: each input with its own target (a sketch and its photo, a map and its aerial view) | **Pix2Pix** (lesson 02) | the mapping, pixel by pixel, from examples | L1, PSNR, SSIM against the true targets |
# | two collections with no pairs (photos of summer, photos of winter) | **CycleGAN** (lesson 03) | a mapping between the two *styles*, kept honest by the cycle | cycle error, KID; a target only if you know one |
#
# Pairs are worth a lot: Pix2Pix learns from a few hundred (facades has 400), measured against the
# truth. CycleGAN needs hundreds to a thousand images per side and many more steps, and changes
# *appearance*, not shapes (Zhu et al. 2017 show its failures on dog-to-cat).
#
# ## 2. Bring your images
#
# The loaders read two layouts, as in lesson 04:
#
# ```
# Pix2Pix:   my_pairs/train/*.jpg    each file is input | target side by side
#            my_pairs/test/*.jpg     (or val/): held out, for the evaluation
# CycleGAN:  my_sets/trainA/  my_sets/trainB/  my_sets/testA/  my_sets/testB/
# ```
#
# Keep about one image in ten out of training, in `test/` (or `testA/`, `testB/`): the evaluation must
# judge images the model never saw. Pack the folder as a `.zip` (or `.tar.gz`) and put it on Google
# Drive: the loaders and `--data` unpack it once into a cache.
#
# Your choices go into the next cell. The defaults train on the shipped paired set (labels to
# scenes, 64x64): a worked example to compare with when you run yours.

# %%
MODEL = cfg.model              # "pix2pix" (pairs) or "cyclegan" (two unpaired collections)
DATA = cfg.data                # "shipped", or e.g. "/content/drive/MyDrive/my_pairs.zip" (a folder works too)
IMAGE_SIZE = cfg.image_size if DATA == "shipped" else cfg.own_image_size   # your own photos: the papers' 256
STEPS = cfg.steps              # the step the run reaches; raise it for a real project (see section 4)
print(f"{MODEL} on {DATA}, {IMAGE_SIZE}x{IMAGE_SIZE}, {STEPS} steps")

# %% [markdown]
# On Colab, Drive's `/content/drive/MyDrive/` holds your archive and the run's checkpoints.
# Elsewhere the run goes to a folder under `build/`.

# %%
if course.config.in_colab():
    from google.colab import drive
    drive.mount("/content/drive")
    RUNS = Path(cfg.out_dir)
else:
    RUNS = (course.config.REPO_ROOT or Path.cwd()) / "build" / "runs"
    print("Not on Colab: the run goes to", RUNS)

# %% [markdown]
# ## 3. Check and prepare the data
#
# `data.dataset_folder` turns what you gave into a folder: a folder stays as it is, an archive is
# unpacked (once) into a cache. `"shipped"` stands for the course's own set of the chosen kind.

# %%
if DATA == "shipped":
    source = data.shipped_paired_path() if MODEL == "pix2pix" else data.shipped_unpaired_path()
else:
    source = Path(DATA)
folder = data.dataset_folder(source)          # your folder, or where the archive was unpacked
counts = capstone.describe_dataset(folder, MODEL)
print(folder, counts)

# %% [markdown]
# `capstone.describe_dataset` counted the images of each split and checked that the ones training
# and evaluation need are there. Real folders have surprises (a file that is not an image, a
# missing folder); the loaders check every file and name the file and the fix. Here is what they
# say about a small broken copy of a dataset, made on purpose:

# %%
import tempfile

broken = Path(tempfile.mkdtemp(prefix="broken-"))
(broken / "train").mkdir()
for f in sorted((data.shipped_paired_path() / "train").glob("*.jpg"))[:3]:
    shutil.copy(f, broken / "train" / f.name)
(broken / "train" / "notes.jpg").write_text("not an image")                   # a text file with a .jpg name
for attempt in (lambda: data.load_paired_folder(broken, "train"),             # the whole folder
                lambda: data.load_unpaired_folder(broken, "train")):          # the wrong layout
    try:
        attempt()
    except (ValueError, FileNotFoundError) as err:
        print(f"{type(err).__name__}: {err}\n")
shutil.rmtree(broken)

# %% [markdown]
# Each message says what to do: delete or replace the file (or pass `skip_bad_files=True`, which
# leaves such files out with a warning), or arrange the folders as the layout says. Now a look at a
# few of your training images, as the training step will see them (resized and scaled to $[-1, 1]$;
# the random crops and mirrors are switched off for the picture):

# %%
if MODEL == "pix2pix":
    first = data.load_paired_folder(folder, "train", image_size=IMAGE_SIZE, jitter=False, shuffle=False,
                                    batch_size=3, cache=False)
    inputs, targets = next(iter(first))                       # (3, S, S, 3) each
    course.plotting.show_images(np.concatenate([inputs, targets]), ["input"] * 3 + ["target"] * 3, size=2);
else:
    a, b = data.load_unpaired_folder(folder, "train", image_size=IMAGE_SIZE, jitter=False, shuffle=False,
                                     batch_size=3, cache=False)
    course.plotting.show_images(np.concatenate([next(iter(a)), next(iter(b))]), ["A"] * 3 + ["B"] * 3, size=2);

# %% [markdown]
# ## 4. Train
#
# One command trains, writes checkpoints, samples and the loss history into a run folder, and
# exports the generator(s) at the end; run the very same command again and it resumes from the
# latest checkpoint. In a terminal (or a Colab cell starting with `!`) it reads:
#
# ```
# python -m course_utils train pix2pix --data /content/drive/MyDrive/my_pairs.zip \
#        --out /content/drive/MyDrive/gan-course/runs/my_pairs --steps 20000 --image-size 256
# ```
#
# **How many steps?** Lesson 04 measures what a step costs on your runtime; multiply by the steps
# you want. A 256x256 CycleGAN step is about 25 times a Pix2Pix step (lesson 00). The papers train
# Pix2Pix on facades for 80,000 steps and CycleGAN for 200 epochs; a Colab session gives you a few
# hours. Report your steps as what they are: "20,000 steps", not "the paper's setting".
#
# **The schedule's shape.** For CycleGAN the command keeps the paper's shape, shortened: the
# learning rate `cfg.learning_rate` ($2\times10^{-4}$) for the first half of the steps, then
# linearly to zero. Pix2Pix trains at a constant `cfg.learning_rate`, as the TensorFlow tutorial
# does. The smoke profile's few hundred steps use a higher rate, printed with the command below.
#
# The notebook calls the same command line through `cli.main`. The run folder's name records the
# settings, so other settings start another run instead of resuming this one.

# %%
RUN_DIR = RUNS / "05_capstone" / f"{MODEL}_{Path(str(DATA)).stem}_{IMAGE_SIZE}px_{STEPS}steps_{cfg.profile}"
if cfg.starts_fresh and RUN_DIR.exists():
    shutil.rmtree(RUN_DIR)          # smoke and cut runs: fresh; learner and paper: resume whatever is there
train_args = ["train", MODEL, "--data", str(folder), "--out", str(RUN_DIR), "--steps", str(STEPS),
              "--image-size", str(IMAGE_SIZE), "--filters", str(cfg.filters), "--batch-size", str(cfg.batch_size),
              "--learning-rate", str(cfg.learning_rate), "--checkpoint-every", str(cfg.checkpoint_every),
              "--seed", str(cfg.seed)]
print("python -m course_utils", " ".join(train_args))
status = course.cli.main(train_args + (["--quiet"] if cfg.is_smoke else []))
assert status == 0, "training stopped: the message above says why"

# %% [markdown]
# The command printed one line of JSON at the end (the step reached, the losses, the time). The run
# folder holds everything else; the loss history first. GAN losses do not fall steadily; look for
# a stable balance and, for Pix2Pix, the L1 term going down.

# %%
keys = ["g_l1", "g_adv", "d_loss"] if MODEL == "pix2pix" else ["g_loss", "f_loss", "dx_loss", "dy_loss", "cycle"]
course.plotting.plot_loss_history(RUN_DIR / "history.csv", keys=keys, smoothing=0.9, title=f"{MODEL} losses");

# %% [markdown]
# ## 5. Evaluate on held-out images
#
# `python -m course_utils evaluate` runs the exported generator on the held-out images and writes a
# report folder: `metrics.json` (the means and one entry per image) and a picture report
# (`index.html` with grids of input | output | target). For Pix2Pix the numbers are L1, PSNR and SSIM
# against the targets; for CycleGAN, with no targets, the cycle error (how well $F(G(a))$ returns
# to $a$) and the identity error (how much a generator changes an image already in its output
# domain).

# %%
REPORT_DIR = RUN_DIR / "report"
status = course.cli.main(["evaluate", "--model", str(RUN_DIR), "--data", str(folder), "--out", str(REPORT_DIR),
                   "--report-images", str(cfg.report_images)] + (["--quiet"] if cfg.is_smoke else []))
assert status == 0, "the evaluation stopped: the message above says why"
report = json.loads((REPORT_DIR / "metrics.json").read_text())
print("report:", REPORT_DIR / "index.html")

# %% [markdown]
# The first grid of the picture report (open `index.html` to see all of them with each image's
# numbers). The numbers below say how the outputs compare with answers that need no learning.

# %%
grid = sorted((REPORT_DIR / "grids").glob("*.png"))[0]
plt.figure(figsize=(4, 6))
plt.imshow(plt.imread(grid))
plt.axis("off")
plt.title(f"{grid.name}: input | output | {'target' if MODEL == 'pix2pix' else 'round trip'}", fontsize=9);

# %% [markdown]
# ### The baselines
#
# A number alone says little: it needs a **baseline**, an answer that needs no learning, scored with
# the same metrics on the same held-out images (`course.results.image_scores`, as lessons 02-04 do it):
#
# - for Pix2Pix, **the mean training image**: the same picture, the average of all training
#   targets, whatever the input (lesson 02's baseline), and **the input unchanged**;
# - for the shipped unpaired set, **the input unchanged** against its known true translation
#   (lessons 03 and 04);
# - for your own unpaired photos there is no target, so the baseline is a distance between
#   distributions: the KID of lesson 04 between real B images and your *untranslated* A images,
#   against the KID between real B and $G(A)$ (on a GPU; it downloads InceptionV3's weights once).

# %%
generators = {p.stem: keras.models.load_model(p) for p in sorted((RUN_DIR / "export").glob("*.keras"))}
baselines = {}
if MODEL == "pix2pix":
    split = "test" if counts["test"] else "val"
    test_in, test_target = course.results.paired_split(split, IMAGE_SIZE, root=folder)    # (N, S, S, 3) each
    scores = {k: report[k] for k in ("l1", "psnr", "ssim")}                        # the evaluate report's
    mean_image = course.results.mean_target("train", IMAGE_SIZE, root=folder)            # (S, S, 3)
    baselines["mean training image"] = course.results.image_scores(np.broadcast_to(mean_image, test_target.shape), test_target)
    baselines["input unchanged"] = course.results.image_scores(test_in, test_target)
else:
    test_in, test_b = data.unpaired_test_images(folder, max(counts["testA"], counts["testB"]), IMAGE_SIZE)
    translated = inference.translate(generators["generator_g"], test_in)         # G(a): (N, S, S, 3)
    scores = {k: report[k] for k in ("cycle_error", "identity_error")}
    if DATA == "shipped":                                                            # a known true answer
        test_target = data.true_translation(test_in, "AtoB")
        scores.update(course.results.image_scores(translated, test_target))              # G(a) against the truth
        baselines["input unchanged"] = course.results.image_scores(test_in, test_target)
print(f"{'':<20}" + "".join(f"{k:>15}" for k in scores))
for name, row in {"model": scores, **baselines}.items():
    print(f"{name:<20}" + "".join(f"{row[k]:>15.3f}" if k in row else f"{'-':>15}" for k in scores))
for name, base in baselines.items():
    print(f"better than '{name}':", capstone.beats(scores, base))
if MODEL == "pix2pix":   # how much of the no-learning picture's error is left
    print(f"L1 / mean image's L1: {scores['l1'] / baselines['mean training image']['l1']:.2f}")

# %% [markdown]
# For unpaired photos of your own, the KID comparison (not in the smoke profile: it needs a download):

# %%
if MODEL == "cyclegan" and DATA != "shipped" and not cfg.is_smoke:
    try:
        subset = dict(subsets=10, subset_size=min(50, len(test_in), len(test_b)))
        scores["kid"] = metrics.kernel_inception_distance(test_b, translated, **subset).value
        baselines["input unchanged"] = {"kid": metrics.kernel_inception_distance(test_b, test_in, **subset).value}
        print(f"KID real B vs G(A): {scores['kid']:.4f}; vs A unchanged (the baseline): "
              f"{baselines['input unchanged']['kid']:.4f}")
    except RuntimeError as err:          # no internet: the message says what to do
        print(err)
else:
    print("No KID here: it is for your own unpaired photos, in the learner or paper profile.")

# %% [markdown]
# ### Failure cases
#
# Averages hide the images a model gets wrong, and those teach the most. `capstone.worst_images`
# ranks the report's per-image numbers (L1 for Pix2Pix, cycle error for CycleGAN). Look at the
# worst and ask *why*: a kind of image rare in training? Content the other domain never shows?

# %%
worst = capstone.worst_images(REPORT_DIR / "metrics.json", k=3)
for record in worst:
    print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in record.items()})

# %% [markdown]
# The worst images, with what the model made of them:

# %%
domain_folder = {"A": "testA", "B": "testB"}
shown, titles = [], []
for record in worst:
    if MODEL == "pix2pix":
        name_order = [r["file"] for r in report["per_image"]]       # the report's order is the test set's
        i = name_order.index(record["file"])                         # (test_in, test_target: the same order)
        x = test_in[i:i + 1]
        shown += [x[0], inference.translate(generators["generator"], x)[0], test_target[i]]
        titles += [record["file"], "output", "target"]
    else:
        side = domain_folder[record["domain"]]
        image = data.unpaired_test_images(folder, 1000, IMAGE_SIZE)[0 if record["domain"] == "A" else 1]
        names = [r["file"] for r in report[record["domain"]]["per_image"]]
        x = image[names.index(record["file"]):][:1]
        there, back = ("generator_g", "generator_f") if record["domain"] == "A" else ("generator_f", "generator_g")
        out = inference.translate(generators[there], x)
        shown += [x[0], out[0], inference.translate(generators[back], out)[0]]
        titles += [f"{side}/{record['file']}", "translated", "round trip"]
course.plotting.show_images(shown, titles, ncols=3, size=2);

# %% [markdown]
# ## 6. Write it up
#
# A result is worth as much as its description, and this is how the project is judged: 20 points,
# half scored from the run folder by `capstone.score_rubric`, half by your instructor.
#
# | criterion | points | scored by |
# |---|---|---|
# | the model beats every baseline on held-out images | 5 | `score_rubric` (main metric: L1, or KID) |
# | the write-up's fields are filled in | 3 | `score_rubric` (task, resumed?, why it fails, what next) |
# | the run is reproducible from its recorded train command | 2 | `score_rubric` (the command matches the run folder) |
# | the choice of data and model is argued | 3 | instructor |
# | failure cases are shown and explained | 3 | instructor |
# | honest limits | 2 | instructor (steps against the paper's, what the numbers do not show) |
# | pictures | 2 | instructor (inputs, outputs, targets or round trips, beside the baselines) |
#
# Fill in your answers below; what you leave empty stays **TODO (you)** in the report, which has
# every measured number in it already.

# %%
ANSWERS = {"task": "",       # what goes in, what should come out
           "resumed": "",    # was the run resumed after a disconnect, from which step?
           "why": "",        # why the worst images fail, your best guess from the pictures
           "next": ""}       # what you would change next

# %%
gpus = course.runtime.check_gpu(verbose=False)
precision = json.loads((RUN_DIR / "run_settings.json").read_text())["settings"].get("precision", "float32")
writeup = capstone.write_up(
    RUN_DIR / "WRITEUP.md", title=f"{MODEL} on {Path(str(DATA)).stem}",
    task=capstone.TODO + ": what goes in, what should come out", data=str(DATA), counts=counts, model=MODEL,
    image_size=IMAGE_SIZE, filters=cfg.filters, steps=STEPS, batch_size=cfg.batch_size,
    schedule=(f"constant {cfg.learning_rate:g}, as the TensorFlow tutorial" if MODEL == "pix2pix" else
              f"{cfg.learning_rate:g} for {STEPS // 2} steps, then linearly to 0 over {STEPS - STEPS // 2}: "
              "the paper's shape"),
    hardware=f"{gpus[0]['name'] if gpus else 'CPU only'}, {precision}",
    scores=scores, baselines=baselines,
    failures=[f"{r.get('domain', '')} {r['file']}".strip() for r in worst], answers=ANSWERS)
display(Markdown(writeup.read_text()))

# %% [markdown]
# `WRITEUP.md` is in the run folder, next to the report it quotes. Add the report's pictures, and
# you have a project you can show. Last, the run records its command and numbers, and scores the
# rubric's mechanical half:

# %%
capstone.save_result(RUN_DIR, command=train_args, scores=scores, baselines=baselines)
rubric = capstone.score_rubric(RUN_DIR, writeup)
for key, c in rubric["criteria"].items():
    print(f"{key:<13} {c['points']:>4g} / {c['out_of']}   {c['note']}")
print(f"scored here: {rubric['points']:g} / {rubric['out_of']}; for your instructor:",
      ", ".join(f"{c['key']} ({c['out_of']})" for c in rubric["for_instructor"]))

# %% [markdown]
# ## Check yourself
#
# Answer each question in your head (or on paper) first, then open the answer.
#
# **1.** You have 500 photos of streets by day and 400 by night, taken at different places. Pix2Pix
# or CycleGAN, and what can you measure?
#
# <details><summary>Answer</summary>
#
# CycleGAN: there are no pairs (no night photo of the same street). With no target, measure the
# cycle and identity errors and the KID of the translated images against real night photos, next to
# the KID of the untranslated day photos (the baseline), and look at the failure cases.
#
# </details>
#
# **2.** Your Pix2Pix model's L1 on the test pairs is 0.21; the mean training image scores 0.20. What
# do you write?
#
# <details><summary>Answer</summary>
#
# That the model does not beat a baseline that ignores its input: it has not learned the mapping
# yet (or the test images differ from the training ones). Say so, with the steps it trained for,
# and look at the samples and the losses before training longer.
#
# </details>
#
# **3.** Why keep a tenth of the images out of training?
#
# <details><summary>Answer</summary>
#
# So that the evaluation judges images the model never saw: scores on training images reward
# memorising them, and would not tell you how the model does on a new photo.
#
# </details>

# %% [markdown]
# ## Summary
#
# - Pairs mean Pix2Pix, measurable against the truth; two collections mean CycleGAN, judged by cycle
#   error, KID and your eyes.
# - Pack your folder in the course's layout as a `.zip`, keep about one image in ten held out, and
#   let the loaders' checks find the bad files before the GPU time starts.
# - One command trains and resumes (`python -m course_utils train`), one evaluates
#   (`python -m course_utils evaluate`); run folders and reports live on Drive.
# - Report the steps and the schedule's shape, the numbers beside the baselines (the mean image,
#   the input unchanged), and the failure cases; the rubric scores them.

# %% [markdown]
# ## Further reading
#
# **The papers behind this project**
#
# - Isola et al. (2017), *Image-to-Image Translation with Conditional Adversarial Networks*
#   (Pix2Pix), [arXiv:1611.07004](https://arxiv.org/abs/1611.07004).
# - Zhu et al. (2017), *Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
#   Networks* (CycleGAN), [arXiv:1703.10593](https://arxiv.org/abs/1703.10593); its limitations
#   section shows the failures to expect.
# - Binkowski et al. (2018), *Demystifying MMD GANs* (KID),
#   [arXiv:1801.01401](https://arxiv.org/abs/1801.01401).
#
# **The TensorFlow and Keras documentation we used**
#
# - The TensorFlow [pix2pix](https://www.tensorflow.org/tutorials/generative/pix2pix) and
#   [CycleGAN](https://www.tensorflow.org/tutorials/generative/cyclegan) tutorials.
# - [Loading images](https://www.tensorflow.org/tutorials/load_data/images) with `tf.data`, and
#   [saving and loading Keras models](https://keras.io/guides/serialization_and_saving/).
#
# **Where to go next**
#
# - Wang et al. (2018), *High-Resolution Image Synthesis and Semantic Manipulation with Conditional
#   GANs* (pix2pixHD), [arXiv:1711.11585](https://arxiv.org/abs/1711.11585): paired translation at
#   2048x1024.
# - Park et al. (2020), *Contrastive Learning for Unpaired Image-to-Image Translation* (CUT),
#   [arXiv:2007.15651](https://arxiv.org/abs/2007.15651): unpaired translation with one generator
#   and a contrastive loss in place of the cycle.
