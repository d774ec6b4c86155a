# The two commands a newcomer types:   make lessons    make test
# Every target installs what it needs first (a .venv next to this file).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The lessons, longest first (04, 01, 03, then the rest), so that the two nbval workers below finish together.
LONGEST_FIRST := 04 01 03
NOTEBOOKS := $(foreach n,$(LONGEST_FIRST),$(wildcard notebooks/$(n)_*.ipynb)) \
             $(filter-out $(foreach n,$(LONGEST_FIRST),notebooks/$(n)_%),$(sort $(wildcard notebooks/*.ipynb)))
SOLUTIONS := $(sort $(wildcard solutions/*.ipynb))
# Lessons run two at a time (pytest-xdist, one notebook per process: its cells stay in order in one
# kernel); most of a smoke lesson's work keeps one core busy, so two cores take half the time.
# NBVAL_WORKERS=0 runs them one after the other.
NBVAL_WORKERS ?= 2
NBVAL     := $(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env --nbval-cell-timeout=1200 \
             $(if $(filter-out 0,$(NBVAL_WORKERS)),-n $(NBVAL_WORKERS) --dist loadfile --no-loadscope-reorder)
# MPLBACKEND is left unset: with it set, Jupyter kernels do not switch to the inline
# backend and executed lessons would have no pictures (tests/conftest.py picks Agg for pytest).
unexport MPLBACKEND
# TF_CPP_MIN_LOG_LEVEL is left to course_utils (it sets 3 before TensorFlow starts), so lessons
# run here show what they show a learner on Colab.
# Lessons and tests never reach the network for data; keep TFDS quiet offline.
export NO_GCE_CHECK := true

.PHONY: help install test unit check-notebooks check-full check-solutions check-solutions-full check-sync sync lessons open grade bench data reference-models colab-check release-check clean

help:
	@echo "make install          create $(VENV) with course_utils (editable) and its dev tools"
	@echo "make test             unit tests, every lesson and every solution notebook (smoke), the sync check"
	@echo "make unit             the unit tests not marked slow: the quick loop while changing course_utils"
	@echo "make check-notebooks  run every lesson as learners get it (exercises unsolved) with nbval, smoke profile"
	@echo "make check-full       every lesson in the $(FULL_PROFILE) profile (MNIST/facades/horse2zebra stand-ins), COURSE_STEPS=$(FULL_STEPS)"
	@echo "make check-solutions  run every exercise check of the solution notebooks (and what it needs): all must pass"
	@echo "make check-solutions-full   the same, whole notebooks"
	@echo "make check-sync       fail if a generated notebook is stale, hand-edited or has outputs"
	@echo "make lessons          execute every lesson (smoke) into build/lessons/ as .ipynb and .html"
	@echo "make open             open the lessons in Jupyter locally"
	@echo "make sync             rebuild notebooks/*.ipynb (learners') and solutions/*.ipynb from each .py"
	@echo "make grade SUBMISSIONS=folder-or.zip [LESSON=01] [GRADES=build/grades]   grade a class's notebooks"
	@echo "make bench            measure step times, FLOP/s and input-pipeline speed (build/bench.json)"
	@echo "make data             regenerate the shipped mini datasets in data/"
	@echo "make reference-models retrain the reference weights in data/reference/ (about 1.5 hours on 2 cores)"
	@echo "make colab-check      unit tests + every lesson under Colab's versions, installed from a wheel"
	@echo "make release-check    offline checks before tagging a release (links, tag, wheel with data)"

# Idempotent: re-runs pip only when pyproject.toml changed.
install: $(STAMP)
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	# ipywidgets 7.7 (what Colab ships) beside 8, for tests/test_widgets.py to run the widgets under both.
	$(PY) -m pip install -q --no-deps --upgrade --target $(VENV)/ipywidgets7 "ipywidgets==7.7.*" "ipython_genutils==0.2.*"
	touch $(STAMP)

# pytest exits 5 when it collected no test: say so, and fail (a suite that ran nothing is not green).
# $(call pytest_units,ARGS) runs tests/ with extra pytest arguments, in TEST_WORKERS processes
# (pytest-xdist; each test file stays in one process, so module fixtures are built once). Two
# workers on CI's two cores: 3:40 instead of 6:20 for the whole suite. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
pytest_units = $(PY) -m pytest -q tests $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder) $(1) || { rc=$$?; [ $$rc -ne 5 ] || echo "error: pytest collected no tests" >&2; exit $$rc; }

test: install
	$(call pytest_units)
	$(MAKE) check-notebooks
	$(MAKE) check-solutions
	$(MAKE) check-sync

# The quick loop while changing course_utils: every unit test except those marked slow (they
# train small models or run subprocesses; make test runs them too).
unit: install
	$(call pytest_units,-m "not slow")

# The learners' notebooks: every exercise is still a stub, so each check cell falls back to
# the course's reference and says so; the lesson must still run to its end.
check-notebooks: install
	COURSE_SMOKE=1 $(NBVAL) $(NOTEBOOKS)

# What a Colab learner runs: every lesson in the learner profile (the papers' networks and widths, the
# MNIST / facades / horse2zebra branches), with every training loop cut to FULL_STEPS steps
# (COURSE_STEPS, course_utils/lessons/config.py) and the three downloads answered at their boundary by
# local stand-ins (scripts/full_stand_ins.py: a file:// facades archive, an MNIST-format .npz,
# tfds.testing.mock_data), through a Jupyter startup file in the stand-ins' own IPYTHONDIR.
# Before each term; FULL_LESSONS picks lessons, e.g. FULL_LESSONS="notebooks/02_pix2pix.ipynb".
FULL_STEPS   ?= 4
# learner: what a Colab learner runs by default on a GPU; FULL_PROFILE=paper runs the papers' settings.
FULL_PROFILE ?= learner
FULL_LESSONS ?= $(NOTEBOOKS)
FULL_STAND_INS := $(CURDIR)/build/full-stand-ins
check-full: install
	$(PY) scripts/full_stand_ins.py $(FULL_STAND_INS) >/dev/null
	env -u COURSE_SMOKE COURSE_PROFILE=$(FULL_PROFILE) COURSE_STEPS=$(FULL_STEPS) COURSE_STAND_INS=$(FULL_STAND_INS) \
		IPYTHONDIR=$(FULL_STAND_INS)/ipython KERAS_HOME=$(FULL_STAND_INS)/keras \
		$(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env --nbval-cell-timeout=3600 --timeout=3600 \
		--durations=5 $(FULL_LESSONS)

# The instructors' notebooks, answers in place: a stub there is a failure, not a fallback.
# `make test` runs, of each, every exercise check and the cells it reads from (scripts/
# check_notebooks.py finds them by name); the rest is the code the learners' run above executes,
# with functions that passed the same checks. check-solutions-full runs them whole.
check-solutions: install
	rm -rf build/solution-runs
	$(PY) scripts/check_notebooks.py --solution-runs build/solution-runs
	COURSE_SMOKE=1 COURSE_REQUIRE_SOLUTIONS=1 $(NBVAL) build/solution-runs/*.ipynb

check-solutions-full: install
	COURSE_SMOKE=1 COURSE_REQUIRE_SOLUTIONS=1 $(NBVAL) $(SOLUTIONS)

check-sync: install
	$(PY) scripts/check_notebooks.py

sync: install
	$(PY) scripts/check_notebooks.py --sync

lessons: install
	mkdir -p build/lessons
	COURSE_SMOKE=1 $(VENV)/bin/jupyter nbconvert --to notebook --execute \
		--ExecutePreprocessor.timeout=1200 --output-dir build/lessons $(NOTEBOOKS)
	$(VENV)/bin/jupyter nbconvert --to html --output-dir build/lessons build/lessons/*.ipynb
	@echo "Executed lessons: build/lessons/*.html"

open: install
	$(PY) -m pip install -q notebook
	$(VENV)/bin/jupyter notebook notebooks/

# A class's notebooks: GRADES/grades.csv, feedback/<learner>.html, summary.html (course_utils.tools.grade).
GRADES ?= build/grades
grade: install
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder-or.zip [LESSON=01] [GRADES=build/grades]" >&2; exit 2; }
	$(PY) -m course_utils grade "$(SUBMISSIONS)" --out "$(GRADES)" $(if $(LESSON),--lesson $(LESSON))

bench: install
	mkdir -p build
	$(PY) -m course_utils bench --standard --json-out build/bench.json

data: install
	$(PY) data/make_data.py

# Seeded CPU training of each lesson's smoke-sized model for longer; writes data/reference/*.npz and
# manifest.json (hashes, command, steps, seconds, metrics). tests/test_results.py re-measures them.
reference-models: install
	$(PY) scripts/make_reference_models.py

# Colab's Python and library versions (scripts/colab-constraints.txt), the package installed from
# a wheel as a lesson's setup cell does, then the unit tests and every lesson (see the script).
colab-check:
	bash scripts/colab_check.sh

release-check: install
	$(PY) scripts/release_check.py

clean:
	rm -rf build .pytest_cache
