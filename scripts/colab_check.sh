#!/usr/bin/env bash
# make colab-check: the course under Colab's versions, installed the way a lesson's first cell does it.
#
# 1. a fresh virtual environment with Colab's Python (3.13 when this machine has one) and Colab's
#    libraries from scripts/colab-constraints.txt, plus the test tools;
# 2. a wheel built from this checkout, installed non-editable with `pip install --no-deps` and
#    `python -m course_utils.tools.install`, exactly the two steps of the lessons' setup cell;
# 3. a check that step 2 changed none of the packages installed in step 1;
# 4. the unit tests and every lesson under nbval (smoke profile), run from a copy outside the
#    repository so that `import course_utils` can only find the installed wheel.
#
#     scripts/colab_check.sh             # all of it (make colab-check)
#     scripts/colab_check.sh --download  # only fill the wheelhouse (.ci/run does it during make test)
#
# Environment: COLAB_PYTHON (the interpreter), COLAB_CHECK_DIR (default build/colab-check),
# COLAB_CHECK_WHEELS (the wheelhouse). Downloads happen in step 1 only, into a wheelhouse that
# later runs reuse (this machine's pip keeps no HTTP cache); the tests run offline.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${COLAB_CHECK_DIR:-$ROOT/build/colab-check}
VENV=$DIR/venv
WORK=$DIR/work
start=$(date +%s)
phase_start=$start
phase() {   # print how long the previous phase took, then name the next one
    local now; now=$(date +%s)
    [ -z "${PHASE:-}" ] || echo "colab-check: $PHASE took $(( now - phase_start )) s"
    PHASE=$1; phase_start=$now
    [ "$1" = done ] || echo "colab-check: $1"
}

export PIP_DISABLE_PIP_VERSION_CHECK=1

# -- which Python ------------------------------------------------------------------------------
PY=${COLAB_PYTHON:-}
if [ -z "$PY" ]; then
    for candidate in "$HOME/.pyenv/versions/3.13.0/bin/python3" python3.13 python3; do
        if command -v "$candidate" >/dev/null 2>&1; then PY=$(command -v "$candidate"); break; fi
    done
fi
version=$("$PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
echo "colab-check: Python $version ($PY)"
case $version in
    3.13.*) ;;
    *) echo "colab-check: WARNING: Colab runs Python 3.13; this check uses $version (no 3.13 found; set COLAB_PYTHON)" ;;
esac

# -- 1. Colab's libraries ------------------------------------------------------------------------
# The Colab libraries by name (the constraints file pins them), then the test tools.
colab_packages=$(grep -v '^\s*#' scripts/colab-constraints.txt | sed -E 's/[=<>;[:space:]].*//' | sort -u | tr '\n' ' ')
tools='pillow tqdm pytest>=7 pytest-timeout>=2 pytest-xdist>=3.6 nbval>=0.10 ipykernel nbconvert tensorboard setuptools>=64 wheel'
# A wheelhouse outside the repository, keyed by what is asked for: the first run downloads
# (~800 MB, TensorFlow most of it), later runs and fresh clones install from disk.
WHEELS=${COLAB_CHECK_WHEELS:-$HOME/.cache/course_utils/colab-check-wheels}
key=$( { cat scripts/colab-constraints.txt; echo "$colab_packages $tools $version"; } | sha256sum | cut -c1-16)
mkdir -p "$WHEELS"
phase "wheelhouse of Colab's versions"
if [ ! -f "$WHEELS/complete-$key" ]; then
    echo "colab-check: downloading into $WHEELS (once per constraints file)"
    log=$(mktemp)
    # shellcheck disable=SC2086
    if ! "$PY" -m pip wheel -q --prefer-binary --wheel-dir "$WHEELS" --find-links "$WHEELS" \
            -c scripts/colab-constraints.txt $colab_packages $tools 2> "$log"; then
        grep -v "is ignored: it is neither" "$log"; rm -f "$log"; exit 1
    fi
    rm -f "$log"
    touch "$WHEELS/complete-$key"
fi
if [ "${1:-}" = --download ]; then
    echo "colab-check: wheelhouse ready in $(( $(date +%s) - start )) s"
    exit 0
fi

phase "venv with Colab's versions (scripts/colab-constraints.txt)"
rm -rf "$DIR"
mkdir -p "$DIR" "$WORK"
"$PY" -m venv "$VENV"
VPY=$VENV/bin/python
# shellcheck disable=SC2086
"$VPY" -m pip install -q --no-compile --no-index --find-links "$WHEELS" -c scripts/colab-constraints.txt $colab_packages $tools
"$VPY" -m pip freeze --all | sort > "$DIR/before.txt"

# -- 2. the package, as a lesson's setup cell installs it ----------------------------------------
phase "wheel, installed with --no-deps + python -m course_utils.tools.install"
# Built from a copy: setuptools' build/ folder would otherwise be shared with other builds.
mkdir -p "$DIR/src"
cp -r pyproject.toml README.md course_utils data "$DIR/src/"
"$VPY" -m pip wheel -q --no-deps --no-build-isolation --wheel-dir "$DIR/dist" "$DIR/src" > "$DIR/build.log" 2>&1 \
    || { cat "$DIR/build.log"; exit 1; }
wheel=$(ls "$DIR"/dist/course_utils-*.whl)
echo "colab-check: $(basename "$wheel") $(du -k "$wheel" | cut -f1) kB"
"$VPY" -m pip install -q --no-deps "$wheel"
"$VPY" -m course_utils.tools.install

# -- 3. nothing Colab had was changed ------------------------------------------------------------
phase "compare the environment before and after the install"
"$VPY" -m pip freeze --all | sort > "$DIR/after.txt"
changed=$(comm -23 "$DIR/before.txt" "$DIR/after.txt")
if [ -n "$changed" ]; then
    echo "colab-check: FAIL: installing course_utils changed Colab's packages:"
    echo "$changed"
    diff "$DIR/before.txt" "$DIR/after.txt" || true
    exit 1
fi
grep -v '^\s*#' scripts/colab-constraints.txt | grep -v '^\s*$' > "$DIR/pins.txt"
"$VPY" - "$DIR/pins.txt" <<'EOF'
import sys
from importlib.metadata import version
from packaging.requirements import Requirement
bad = []
for line in open(sys.argv[1]):
    req = Requirement(line.strip())
    if req.marker is None or req.marker.evaluate():
        if not req.specifier.contains(version(req.name), prereleases=True):
            bad.append(f"{req.name} {version(req.name)} (pinned {req.specifier})")
print("colab-check: FAIL: " + "; ".join(bad) if bad else "colab-check: every pinned Colab version is installed")
sys.exit(1 if bad else 0)
EOF

# -- 4. tests and lessons, away from the repository -----------------------------------------------
# What the tests read besides the package: the lessons (.py and .ipynb), the solution notebooks, the
# notebook scripts, the glossary. No course_utils/ source is copied: the tests must import the wheel.
cp -r tests scripts docs solutions "$WORK/"
cp pyproject.toml README.md "$WORK/"
mkdir -p "$WORK/data" "$WORK/notebooks"
cp data/make_data.py "$WORK/data/"
cp notebooks/*.ipynb notebooks/*.py "$WORK/notebooks/"
cd "$WORK"
where=$("$VPY" -c 'import course_utils, course_utils.lessons.config as c; print(course_utils.__file__, c.data_dir())')
echo "colab-check: course_utils and its data: $where"
case $where in
    "$VENV"/*) ;;
    *) echo "colab-check: FAIL: course_utils was not imported from the installed wheel"; exit 1 ;;
esac
unset TF_CPP_MIN_LOG_LEVEL MPLBACKEND   # as on Colab, where nobody sets them: course_utils decides
export NO_GCE_CHECK=true

# The unit tests not marked slow: the slow ones (training runs, subprocesses, the grader's class)
# test the package's logic, which does not change with the versions, and make test runs them all.
# COLAB_CHECK_ALL_TESTS=1 runs every test here too.
# Two processes (pytest-xdist, as make test), each test file in one of them; and so the lessons below.
WORKERS=${TEST_WORKERS:-2}
parallel=$([ "$WORKERS" != 0 ] && echo "-n $WORKERS --dist loadfile --no-loadscope-reorder")
phase "unit tests"
if [ "${COLAB_CHECK_ALL_TESTS:-0}" = 1 ]; then
    "$VENV/bin/pytest" -q -p no:cacheprovider $parallel tests
else
    "$VENV/bin/pytest" -q -p no:cacheprovider $parallel -m "not slow" tests
fi

# COLAB_CHECK_LESSONS="00 05" runs only those lessons; unset, every lesson runs (CI and instructors).
lessons=notebooks/*.ipynb
if [ -n "${COLAB_CHECK_LESSONS:-}" ]; then
    lessons=$(for n in $COLAB_CHECK_LESSONS; do ls notebooks/${n}_*.ipynb; done)
fi
phase "lessons under nbval (smoke profile): $(echo $lessons | tr '\n' ' ')"
COURSE_SMOKE=1 "$VENV/bin/pytest" -q -p no:cacheprovider $parallel --nbval-lax --nbval-current-env \
    --nbval-cell-timeout=1200 $lessons

phase done
echo "colab-check: passed in $(( $(date +%s) - start )) s with Python $version"
