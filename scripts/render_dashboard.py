"""Draws the pipeline's CloudWatch dashboard (PipelineDashboard in
template.yaml) as an SVG picture of its layout: each widget in its place on the
24-column grid, with its title and the series it plots. The picture in
docs/operating.md is made by it:

    .venv/bin/python scripts/render_dashboard.py            # writes docs/images/dashboard.svg
    .venv/bin/python scripts/render_dashboard.py --check    # fails if that file is out of date
    .venv/bin/python scripts/render_dashboard.py --json     # prints the rendered body

The body is the template's, rendered by scripts/template_rules.py for the
sample parameter values below (the defaults, so with the inference API), the
same way tests/emulator/test_dashboard.py renders it; that test also fails when
the committed picture is out of date. Needs the project's venv (cfn-lint,
cloud-radar): `make venv`.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import template_rules  # noqa: E402

TEMPLATE = ROOT / "template.yaml"
SVG = ROOT / "docs" / "images" / "dashboard.svg"
DASHBOARD = "PipelineDashboard"
# The picture's parameters: every default, and the one parameter without one.
PARAMETERS = {"PipelineName": "mlops", "EcrRepositoryName": "mlops-training"}
REGION = "us-east-1"

# Drawing: grid units in pixels, fonts.
COLUMN = 56  # one of the 24 columns
ROW = 30  # one grid row
MARGIN = 16
HEADER = 44  # the caption above the grid
GAP = 4  # between neighbouring widgets
TITLE_SIZE = 12
LINE_SIZE = 10
LINE_HEIGHT = 13
CHAR_WIDTH = {TITLE_SIZE: 6.6, LINE_SIZE: 5.6}  # average, sans-serif
DEFAULT_COLOR = "#8c8c8c"


def render(
    parameters: dict[str, str] | None = None,
    region: str = REGION,
    template: dict | None = None,
    path: Path = TEMPLATE,
) -> tuple[str, dict]:
    """The dashboard's name and body (parsed) for these parameter values (over
    PARAMETERS), in `region`."""
    resource = template_rules.render_resource(
        str(path), {**PARAMETERS, **(parameters or {})}, DASHBOARD, template=template, region=region
    )
    if resource is None:
        raise template_rules.TemplateError(f"{DASHBOARD}: its Condition is false")
    properties = resource["Properties"]
    return str(properties["DashboardName"]), json.loads(properties["DashboardBody"])


# ---------------------------------------------------------------------------
# what a widget plots

SEARCH = re.compile(r"SEARCH\('\s*\{(?P<schema>[^}]*)\}\s*(?P<terms>.*?)\s*',\s*'(?P<stat>[^']+)'(?:,\s*(?P<period>\d+))?\)")
TERM = re.compile(r'(?P<key>\w+)="(?P<value>[^"]*)"')


def parse_search(expression: str) -> dict | None:
    """A SEARCH expression's parts: namespace, dimensions (the schema's
    dimension names), terms (MetricName="...", Pipeline="..."), stat, period."""
    match = SEARCH.fullmatch(expression.strip())
    if not match:
        return None
    namespace, *dimensions = [part.strip().strip('"') for part in match["schema"].split(",")]
    return {
        "namespace": namespace,
        "dimensions": tuple(dimensions),
        "terms": {m["key"]: m["value"] for m in TERM.finditer(match["terms"])},
        "stat": match["stat"],
        "period": int(match["period"]) if match["period"] else None,
    }


def metric_rows(widget: dict) -> list[dict]:
    """A metric widget's metrics array, one dict per entry: for a metric,
    namespace, name, dimensions (a dict), options (the rendering properties);
    for an expression, expression, search (parse_search's, if it is one),
    options. The shorthand "." (same as the row above) is expanded."""
    rows: list[dict] = []
    previous: list[Any] = []
    for entry in (widget.get("properties") or {}).get("metrics") or []:
        options = entry[-1] if entry and isinstance(entry[-1], dict) else {}
        if options and "expression" in options and len(entry) == 1:
            rows.append({"expression": options["expression"], "search": parse_search(options["expression"]), "options": options})
            continue
        values = [item for item in entry if not isinstance(item, dict)]
        values = [previous[i] if value == "." and i < len(previous) else value for i, value in enumerate(values)]
        previous = values
        namespace, name, *pairs = values
        rows.append(
            {
                "namespace": namespace,
                "name": name,
                "dimensions": dict(zip(pairs[0::2], pairs[1::2])),
                "options": options,
            }
        )
    return rows


def series(widget: dict) -> list[tuple[str, str]]:
    """What a widget shows, as (text, colour) lines: each visible series' label
    and what it is (metric, search or expression)."""
    lines = []
    for row in metric_rows(widget):
        options = row["options"]
        if options.get("visible") is False:
            continue
        color = options.get("color", DEFAULT_COLOR)
        if "expression" in row:
            search = row["search"]
            if search:
                by = ", ".join(d for d in search["dimensions"] if d not in ("Pipeline",))
                what = f"{search['terms'].get('MetricName', '?')} by {by}"
                lines.append((f"{what} (one line each, search)", color))
            else:
                lines.append((f"{options.get('label', row['expression'])} (= {row['expression']})", color))
            continue
        if row["namespace"] == "MLOpsPipeline":
            stage = row["dimensions"].get("Stage")
            source = row["name"] + (f" [{stage}]" if stage else "")
        else:
            namespace = row["namespace"].removeprefix("AWS/").removeprefix("/aws/sagemaker/")
            source = f"{namespace} {row['name']}"
        stat = options.get("stat")
        label = options.get("label")
        text = f"{label}: {source}" if label else source
        lines.append((text + (f" ({stat})" if stat else ""), color))
    return lines


def markdown_text(markdown: str) -> list[str]:
    """A text widget's markdown as plain lines (headings, bold and escapes dropped)."""
    lines = []
    for line in markdown.split("\n"):
        line = re.sub(r"^#+\s*", "", line)
        line = line.replace("**", "").replace("`", "")
        lines.append(line)
    return lines


# ---------------------------------------------------------------------------
# drawing


def _wrap(text: str, width: float, size: int) -> list[str]:
    fit = max(8, int(width / CHAR_WIDTH[size]))
    words, lines, line = text.split(" "), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if len(candidate) <= fit or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return [line if len(line) <= fit else line[: fit - 1] + "…" for line in lines]


def _text(x: float, y: float, content: str, size: int, fill: str = "#16191f", weight: str = "normal") -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" font-weight="{weight}" fill="{fill}">'
        f"{html.escape(content, quote=False)}</text>"
    )


def svg(dashboard: dict, caption: str) -> str:
    widgets = dashboard["widgets"]
    rows = max(w["y"] + w["height"] for w in widgets)
    width = 2 * MARGIN + 24 * COLUMN
    height = HEADER + MARGIN + rows * ROW
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="Helvetica, Arial, sans-serif">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f2f3f3"/>',
        _text(MARGIN, 22, caption, 14, weight="bold"),
        _text(MARGIN, 38, "Widgets on CloudWatch's 24-column grid, each with its title and the series it plots "
              "(label: metric [Stage] (statistic if not the widget's)).", LINE_SIZE, fill="#545b64"),
    ]
    for widget in widgets:
        x = MARGIN + widget["x"] * COLUMN + GAP / 2
        y = HEADER + widget["y"] * ROW + GAP / 2
        w = widget["width"] * COLUMN - GAP
        h = widget["height"] * ROW - GAP
        properties = widget.get("properties") or {}
        inner = w - 16
        capacity = int((h - 10) // LINE_HEIGHT)
        if widget["type"] == "text":
            transparent = properties.get("background") == "transparent"
            if not transparent:
                out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="3" fill="#ffffff" stroke="#d5dbdb"/>')
            lines = [part for line in markdown_text(properties.get("markdown", "")) for part in _wrap(line, inner, LINE_SIZE)]
            for i, line in enumerate(lines[:capacity]):
                bold = "bold" if transparent or i == 0 else "normal"  # a heading, or the first line
                out.append(_text(x + 8, y + 14 + i * LINE_HEIGHT, line, LINE_SIZE, weight=bold))
            continue
        out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="3" fill="#ffffff" stroke="#d5dbdb"/>')
        title_lines = _wrap(properties.get("title", ""), inner, TITLE_SIZE)[:2]
        for i, line in enumerate(title_lines):
            out.append(_text(x + 8, y + 17 + i * 15, line, TITLE_SIZE, weight="bold"))
        view = properties.get("view", "timeSeries")
        top = y + 17 + len(title_lines) * 15
        if view != "timeSeries" or properties.get("stacked"):
            note = "single value (latest)" if view == "singleValue" else ("stacked" if properties.get("stacked") else view)
            out.append(_text(x + w - 8, y + 17, note, LINE_SIZE, fill="#545b64").replace("<text ", '<text text-anchor="end" ', 1))
        room = int((y + h - top) // LINE_HEIGHT)
        lines = series(widget)
        used = 0
        for i, (line, color) in enumerate(lines):
            wrapped = _wrap(line, inner - 12, LINE_SIZE)
            reserve = 1 if i < len(lines) - 1 else 0  # a line for "+ n more"
            if used + len(wrapped) + reserve > room:
                out.append(_text(x + 20, top + used * LINE_HEIGHT, f"+ {len(lines) - i} more", LINE_SIZE, fill="#545b64"))
                break
            out.append(f'<rect x="{x + 8:.0f}" y="{top + used * LINE_HEIGHT - 7:.0f}" width="8" height="8" fill="{color}"/>')
            for part in wrapped:
                out.append(_text(x + 20, top + used * LINE_HEIGHT, part, LINE_SIZE))
                used += 1
    out.append("</svg>")
    return "\n".join(out) + "\n"


def picture(template: dict | None = None) -> str:
    """The SVG for PARAMETERS, as docs/images/dashboard.svg holds it."""
    name, dashboard = render(template=template)
    return svg(dashboard, f"CloudWatch dashboard {name} (PipelineName {PARAMETERS['PipelineName']}, inference API on)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=SVG, help=f"where to write the SVG (default {SVG.relative_to(ROOT)})")
    parser.add_argument("--check", action="store_true", help="only compare with the file; exit 1 if it differs")
    parser.add_argument("--json", action="store_true", help="print the rendered dashboard body instead")
    args = parser.parse_args()
    if args.json:
        print(json.dumps(render()[1], indent=2))
        return 0
    drawn = picture()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != drawn:
            print(f"{args.output} is out of date: run .venv/bin/python scripts/render_dashboard.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(drawn)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
