"""The grader's outputs: ``grades.csv``, ``feedback/<learner>.html`` and ``summary.html``.

* ``grades.csv``: one row per learner (sorted by name), one column per exercise with the points
  earned (points per exercise from the registry), ``total``, ``out_of``, and ``note``: why the
  notebook could not be graded, or which exercises did not pass and why, in the words of
  :data:`STATUSES`, the notebook's ``sha256`` and its ``feedback`` page. Nothing in it depends on
  timing, so a re-run writes the same file.
* ``feedback/<learner>.html``: each exercise with its status, the checker's message and hint,
  and the learner's code (file names: :func:`feedback_names`; the grader's own folders scrubbed).
* ``summary.html``: per exercise, how many of the class passed, failed, did not attempt or had
  another problem, as a stacked bar chart (also saved as ``summary.png``) and a table.
"""

from __future__ import annotations

import base64
import collections
import csv
import html
import io
import re
from pathlib import Path
from typing import Any

#: What can happen to one exercise, and the words the gradebook uses for it.
STATUSES = {
    "passed": "passed",
    "not attempted": "still the stub (raise NotImplementedError)",
    "failed": "the checker found a difference",
    "error": "the exercise cell raised an error",
    "syntax error": "the exercise cell does not parse",
    "missing": "no cell defines the exercise's function (deleted or renamed)",
    "time limit": "ran past the time limit per exercise",
    "blocked": "tried to write outside its folder, reach the network or start a program",
    "kernel died": "the kernel died (out of memory, or a crash)",
    "used the course's reference": "the answer is, or calls, the course's own reference",
    "not graded": "not reached: the notebook's time limit ran out or the notebook could not be read",
}

#: How the summary groups the statuses, and each group's colour.
GROUPS = {"passed": ("passed", "#2e7d32"), "failed": ("failed", "#c62828"), "error": ("failed", "#c62828"),
          "syntax error": ("failed", "#c62828"), "not attempted": ("not attempted", "#9e9e9e"),
          "missing": ("other problem", "#ef8f00"), "time limit": ("other problem", "#ef8f00"),
          "blocked": ("other problem", "#ef8f00"), "kernel died": ("other problem", "#ef8f00"),
          "used the course's reference": ("failed", "#c62828"), "not graded": ("not graded", "#5c6bc0")}
GROUP_ORDER = ["passed", "failed", "not attempted", "other problem", "not graded"]

_STYLE = """<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
pre{background:#f6f8fa;padding:.8em;overflow-x:auto;border-radius:4px}td,th{padding:.3em .8em;text-align:left}
table{border-collapse:collapse}tr:nth-child(even){background:#f3f3f3}.passed{color:#2e7d32}.bad{color:#c62828}
.other{color:#b26a00}</style>"""


def note(sub, keys: list[str]) -> str:
    """The gradebook's one line about a learner: the problem, or the exercises that did not pass, by status."""
    if sub.problem:
        return sub.problem
    by_status: dict[str, list[str]] = {}
    for key in keys:
        status = sub.results[key].status
        if status != "passed":
            by_status.setdefault(status, []).append(key)
    return "; ".join(f"{status}: {', '.join(ks)}" for status, ks in by_status.items())


def feedback_names(learners: list[str]) -> dict[str, str]:
    """Each learner's feedback file name (no ``.html``): letters, digits, ``.-_`` only, distinct for distinct
    learners, even where case is ignored. A name already of that form is kept as it is (when no other learner
    has it but for case); any other gets a short hash of the name after its slug (``Zo_Smith-1f2e3d4c``)."""
    import hashlib

    def slug(name: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "learner"

    kept = collections.Counter(n.lower() for n in learners if slug(n) == n)
    names: dict[str, str] = {}
    taken: set[str] = set()
    for learner in sorted(set(learners), key=lambda n: (slug(n) != n or kept[n.lower()] > 1, n)):
        digest = hashlib.sha256(learner.encode("utf-8", "surrogateescape")).hexdigest()
        name, size = learner, 8
        if slug(learner) != learner or kept[learner.lower()] > 1:
            name = f"{slug(learner)[:80]}-{digest[:size]}"
        while name.lower() in taken:   # a learner named like another's hashed name: a longer hash
            size += 8
            name = f"{slug(learner)[:80]}-{digest[:size]}"
        taken.add(name.lower())
        names[learner] = name
    return names


#: The grader's own temporary folders (a sandbox can see where its scratch folder is mounted from).
_GRADER_PATHS = re.compile(r"\S*course-(?:grade|submissions)-[^\s/'\"]*(?:/[^\s'\"]*)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def scrub(text: str) -> str:
    """Text for feedback: the grader's temporary folders replaced by ``<grader's folder>``."""
    return _GRADER_PATHS.sub("<grader's folder>", text)


def plain(text: str) -> str:
    """Text for the instructor's terminal: control characters (terminal escapes) shown as ``?``."""
    return _CONTROL.sub("?", text.replace("\n", " ").replace("\t", " "))


def cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: one that starts like a formula gets a leading ``'``."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write(out: Path, subs: list, keys: list[str], points: dict[str, int], lesson: str, limits) -> dict[str, Path]:
    """Write the three outputs into ``out`` (created), replacing the previous ones only once all are written.

    Everything is written into a temporary folder inside ``out`` first; then ``grades.csv``,
    ``summary.png``, ``summary.html`` and ``feedback/`` are each renamed into place (a reader sees
    the old file or the new one, never half of one), and the old feedback is removed last.
    """
    import shutil
    import tempfile

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out}: --out must be a folder (it is a file); choose another path")
    out.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=".grading-", dir=out))
    try:
        feedback = new / "feedback"
        feedback.mkdir()
        subs = sorted(subs, key=lambda s: (s.learner.lower(), s.learner))
        pages = feedback_names([s.learner for s in subs])
        for sub in subs:   # nothing of the grader's own folders in what the learners and the instructor read
            sub.problem = scrub(sub.problem)
            sub.notes = [scrub(n) for n in sub.notes]
            for result in sub.results.values():
                result.message = scrub(result.message)
        out_of = sum(points.values())
        with open(new / "grades.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["learner", "notebook", *keys, "total", "out_of", "note", "sha256", "feedback"])
            for sub in subs:
                writer.writerow([cell(sub.learner), cell(sub.shown), *(sub.results[k].points for k in keys), sub.total,
                                 out_of, cell(note(sub, keys)), getattr(sub, "sha256", ""),
                                 f"feedback/{pages[sub.learner]}.html"])
        for sub in subs:
            (feedback / f"{pages[sub.learner]}.html").write_text(
                feedback_page(sub, keys, lesson, out_of), encoding="utf-8")
        png = summary_png(subs, keys, lesson)
        (new / "summary.png").write_bytes(png)
        (new / "summary.html").write_text(summary_page(subs, keys, points, lesson, png, limits), encoding="utf-8")
        for name in ("grades.csv", "summary.png", "summary.html"):
            (new / name).replace(out / name)
        old = new / "feedback.old"
        if (out / "feedback").exists():
            (out / "feedback").rename(old)
        feedback.rename(out / "feedback")
    finally:
        shutil.rmtree(new, ignore_errors=True)
    return {"grades": out / "grades.csv", "feedback": out / "feedback", "summary": out / "summary.html"}


def feedback_page(sub, keys: list[str], lesson: str, out_of: int) -> str:
    """One learner's page: each exercise's status, message (with the checker's hint) and code."""
    e = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>Lesson {lesson}: {e(sub.learner)}</title>{_STYLE}",
             f"<h1>Lesson {lesson}: feedback for {e(sub.learner)}</h1>",
             f"<p>Notebook: <code>{e(sub.shown)}</code>. Total: <b>{sub.total} / {out_of}</b>.</p>"]
    if sub.problem:
        parts.append(f"<p class='bad'><b>Not graded:</b> {e(sub.problem)}</p>")
    for text in sub.notes:
        parts.append(f"<p class='other'>Note: {e(text)}</p>")
    for key in keys:
        r = sub.results[key]
        css = "passed" if r.status == "passed" else "bad" if r.status in ("failed", "error", "syntax error") else "other"
        parts.append(f"<h2>{e(key)}: <span class='{css}'>{e(r.status)}</span> ({r.points} / {r.out_of})</h2>")
        parts.append(f"<p>{e(STATUSES.get(r.status, ''))}.</p>")
        if r.message:
            parts.append(f"<pre>{e(r.message)}</pre>")
        if r.code:
            parts.append(f"<details{' open' if r.status != 'passed' else ''}><summary>Your code</summary>"
                         f"<pre>{e(r.code)}</pre></details>")
    return "\n".join(parts) + "\n"


def counts(subs: list, keys: list[str]) -> dict[str, dict[str, int]]:
    """Per exercise, how many learners fall in each group of :data:`GROUP_ORDER`."""
    table = {k: {g: 0 for g in GROUP_ORDER} for k in keys}
    for sub in subs:
        for key in keys:
            table[key][GROUPS[sub.results[key].status][0]] += 1
    return table


def summary_png(subs: list, keys: list[str], lesson: str) -> bytes:
    """The stacked bar chart: one bar per exercise, its share of the class in each group, pass rate written on it."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    table = counts(subs, keys)
    colours = {group: colour for group, colour in GROUPS.values()}
    n = max(1, len(subs))
    height = 1.9 + 0.5 * len(keys)   # inches: title, axis and legend, then half an inch per exercise
    fig = Figure(figsize=(8, height), dpi=110)
    ax = fig.subplots()
    rows = list(reversed(keys))
    left = [0.0] * len(rows)
    for group in GROUP_ORDER:
        shares = [100 * table[k][group] / n for k in rows]
        if any(shares):
            ax.barh(rows, shares, left=left, color=colours[group], label=group, height=0.6)
            left = [a + b for a, b in zip(left, shares)]
    for y, key in enumerate(rows):
        ax.text(101, y, f"{100 * table[key]['passed'] / n:.0f}% passed", va="center", fontsize=9)
    ax.set_xlim(0, 125)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel(f"% of the class ({len(subs)} submissions)")
    ax.set_title(f"Lesson {lesson}: which exercises did the class pass?")
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=5, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.3 / height, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def summary_page(subs: list, keys: list[str], points: dict[str, int], lesson: str, png: bytes, limits: Any) -> str:
    """The class's page: the bar chart, the table of counts, the totals."""
    e = html.escape
    table = counts(subs, keys)
    picture = base64.b64encode(png).decode("ascii")
    rows = "".join(f"<tr><td>{e(k)}</td><td>{points[k]}</td>" + "".join(f"<td>{table[k][g]}</td>" for g in GROUP_ORDER)
                   + "</tr>" for k in keys)
    totals = sorted(s.total for s in subs)
    median = totals[len(totals) // 2] if totals else 0
    return (f"<!doctype html><meta charset='utf-8'><title>Lesson {lesson}: class summary</title>{_STYLE}"
            f"<h1>Lesson {lesson}: class summary</h1>"
            f"<p>{len(subs)} submissions; {sum(1 for s in subs if s.problem)} could not be graded (see "
            f"grades.csv, column note). Median total {median} / {sum(points.values())}.</p>"
            f"<img alt='pass rate per exercise' src='data:image/png;base64,{picture}'>"
            f"<table><tr><th>exercise</th><th>points</th>" + "".join(f"<th>{g}</th>" for g in GROUP_ORDER)
            + f"</tr>{rows}</table>"
            f"<p>Limits: {limits.exercise_seconds:g} s per exercise, {limits.notebook_seconds:g} s per notebook, "
            f"{limits.memory_gb or 'no'} GB of memory per kernel. Feedback per learner: feedback/.</p>\n")
