"""Every link between the project's Markdown pages leads somewhere (issue 17).

The docs are split by reader and link to each other's sections
(`docs/operating.md#troubleshooting`, `architecture.md#errors`): a page that
moves or a heading that is renamed would leave a link to nothing. For every
Markdown page of the repository (not the git-ignored trees), every link that
is not to a web address must name a file or folder that exists, and an
`#anchor` must be the GitHub anchor of a heading of that page.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", "target", ".demo", "node_modules", "__pycache__", ".pytest_cache"}
LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def pages() -> list[Path]:
    found = []
    for directory, subdirs, files in os.walk(ROOT):
        subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS and not d.startswith(".venv")]
        found += [Path(directory) / f for f in files if f.endswith(".md")]
    return sorted(found)


def prose(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for line in prose(page.read_text()):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(page: Path, text: str | None = None) -> list[str]:
    text = "\n".join(prose(page.read_text() if text is None else text))
    text = re.sub(r"`[^`]*`", "", text)  # code spans (which may wrap) are not links
    return [a or b for a, b in LINK.findall(text)]


def broken(page: Path, text: str | None = None) -> list[str]:
    """The links of `page` (or of `text` as if it were that page) that lead nowhere."""
    problems = []
    for target in links(page, text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            problems.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{target}: no heading with that anchor in {resolved.relative_to(ROOT)}")
    return problems


def test_every_link_leads_somewhere():
    problems = {str(p.relative_to(ROOT)): broken(p) for p in pages()}
    problems = {page: found for page, found in problems.items() if found}
    assert not problems, problems


def test_the_check_sees_links_and_anchors():
    readme = ROOT / "README.md"
    assert "docs/operating.md#troubleshooting" in links(readme)
    assert "troubleshooting" in anchors(ROOT / "docs" / "operating.md")
    assert slug("One function on one event: `make invoke`") == "one-function-on-one-event-make-invoke"
    assert slug("What the template's defaults expect of an image") == "what-the-templates-defaults-expect-of-an-image"


def test_the_check_finds_a_broken_link():
    page = ROOT / "docs" / "probe.md"  # as if a page in docs/; nothing is written
    text = "[a](operating.md#no-such-heading) [b](no-such-page.md) [c](operating.md#teardown)\n"
    problems = broken(page, text)
    assert len(problems) == 2 and "no-such-heading" in problems[0] and "no-such-page.md" in problems[1]
