"""docs/glossary.md and the lessons' links to it."""

import re
from pathlib import Path

import pytest

from course_utils.lessons.config import PINNED_REF, REPO_URL

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "glossary.md"
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
GLOSSARY_URL = f"{REPO_URL}/blob/{PINNED_REF}/docs/glossary.md"
LINK_RE = re.compile(r"\]\(([^)\s]*glossary\.md[^)\s]*)\)")
TAUGHT_RE = re.compile(r"^Taught in: \[[^\]]+\]\(\.\./notebooks/([^)]+)\.ipynb\)$")


def github_anchor(heading: str) -> str:
    """The id GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def parse_glossary(text: str) -> dict[str, dict]:
    """{anchor: {"term", "body", "lessons"}} for every '### term' entry."""
    entries, current = {}, None
    for line in text.splitlines():
        if line.startswith("### "):
            term = line[4:].strip()
            current = entries.setdefault(github_anchor(term), {"term": term, "body": [], "lessons": []})
            assert current["term"] == term, f"two entries share the anchor #{github_anchor(term)}"
        elif current is not None:
            m = TAUGHT_RE.match(line.strip())
            if m:
                current["lessons"].append(m.group(1))
            elif line.strip():
                current["body"].append(line.strip())
    return entries


@pytest.fixture(scope="module")
def glossary():
    return parse_glossary(GLOSSARY.read_text(encoding="utf-8"))


def test_parser_reads_entries_and_anchors():
    text = "# G\n\n### Peak FLOP/s\n\nOne sentence.\n\nTaught in: [04](../notebooks/04_x.ipynb)\n"
    assert parse_glossary(text) == {"peak-flops": {"term": "Peak FLOP/s", "body": ["One sentence."],
                                                   "lessons": ["04_x"]}}
    assert github_anchor("Adam beta_1") == "adam-beta_1" and github_anchor("tf.function") == "tffunction"


def test_every_entry_is_short_and_names_an_existing_lesson(glossary):
    assert len(glossary) >= 40
    terms = [e["term"] for e in glossary.values()]
    assert terms == sorted(terms, key=str.lower), "keep the glossary in alphabetical order"
    for anchor, entry in glossary.items():
        assert len(entry["lessons"]) == 1, f"{entry['term']}: needs exactly one 'Taught in:' line"
        lesson = entry["lessons"][0]
        assert (ROOT / "notebooks" / f"{lesson}.py").exists(), f"{entry['term']}: no lesson {lesson}"
        body = " ".join(entry["body"])
        sentences = len(re.findall(r"[.!?](?:\s|$)", re.sub(r"\$[^$]*\$|\b(?:et al|e\.g|i\.e)\.", "", body)))
        assert 1 <= sentences <= 3, f"{entry['term']}: one or two sentences, found {sentences}"


def test_every_glossary_link_in_a_lesson_points_at_an_entry(glossary):
    found = 0
    for lesson in LESSONS:
        for url in LINK_RE.findall(lesson.read_text(encoding="utf-8")):
            base, _, anchor = url.partition("#")
            assert base == GLOSSARY_URL, f"{lesson.name}: link {url} should start with {GLOSSARY_URL}"
            assert anchor in glossary or not anchor, f"{lesson.name}: no glossary entry #{anchor}"
            found += 1
    assert found >= 50


def test_the_lesson_that_teaches_a_term_links_it(glossary):
    for anchor, entry in glossary.items():
        text = (ROOT / "notebooks" / f"{entry['lessons'][0]}.py").read_text(encoding="utf-8")
        assert f"{GLOSSARY_URL}#{anchor})" in text, f"{entry['term']}: {entry['lessons'][0]} never links it"


def test_the_l1_and_image_pool_entries_say_what_the_papers_do(glossary):
    l1 = " ".join(glossary["l1-loss"]["body"])
    # the mean minimises L2, the median L1; the paper prefers L1 because it blurs less (Isola et al. 2017)
    assert re.search(r"median[^.;]*minimises L1", l1) and re.search(r"mean[^.;]*minimises L2", l1), l1
    assert "blurs less than L2" in l1
    pool = " ".join(glossary["image-pool"]["body"])
    assert "random" in pool and "not the last 50" in pool and not pool.startswith("A store of the last"), pool
