"""docs/configuration.md matches template.yaml and the functions' code (issue 17).

Its parameter tables are generated from the template by
scripts/render_configuration.py; a parameter added, renamed or re-described
without running it fails here. The variables the functions read (the string
constants of their config modules) must each be named on the page: one the
template does not set is listed under "Outside the template".
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import render_configuration  # noqa: E402
import template_rules  # noqa: E402

PAGE = ROOT / "docs" / "configuration.md"
# Where the functions read their environment (shared::config's readers are
# called from these with the variables' names).
CONFIG_SOURCES = [
    ROOT / "shared" / "src" / "config.rs",
    ROOT / "shared" / "src" / "sagemaker" / "training.rs",
    ROOT / "shared" / "src" / "sagemaker" / "processing.rs",
    *sorted((ROOT / "functions").glob("*/src/config.rs")),
]
# Upper-case string constants there that are values, not variables.
VALUES = {"ALL_AT_ONCE", "CANARY", "LINEAR"}


@pytest.fixture(scope="module")
def template() -> dict:
    return template_rules.decode(str(ROOT / "template.yaml"))


def variables_read() -> set[str]:
    names: set[str] = set()
    for source in CONFIG_SOURCES:
        names |= set(re.findall(r'"([A-Z][A-Z0-9]*_[A-Z0-9_]+)"', source.read_text()))
    return names - VALUES


def test_the_generated_tables_are_up_to_date(template):
    text = PAGE.read_text()
    assert render_configuration.page_with(text, render_configuration.generated(template)) == text, (
        "docs/configuration.md is out of date: run .venv/bin/python scripts/render_configuration.py"
    )


def test_every_parameter_has_a_row(template):
    text = PAGE.read_text()
    rows = set(re.findall(r"^\| `([A-Za-z0-9]+)` \|", text, re.MULTILINE))
    assert set(template["Parameters"]) <= rows


def test_each_parameter_names_the_variables_it_sets(template):
    section = render_configuration.generated(template)
    row = next(line for line in section.splitlines() if line.startswith("| `EcrTagFilter` |"))
    assert "`ECR_TAG_FILTER` (trigger)" in row
    row = next(line for line in section.splitlines() if line.startswith("| `PipelineName` |"))
    assert "`PIPELINE_NAME` (all)" in row and "part of" in row and "`ENDPOINT_NAME`" in row
    row = next(line for line in section.splitlines() if line.startswith("| `AlertEmail` |"))
    assert "| – |" in row  # configures resources only


def test_every_variable_the_functions_read_is_on_the_page():
    read = variables_read()
    assert {"PIPELINE_NAME", "TRAINING_CHANNELS", "ENDPOINT_ARN", "RETRAIN_SCHEDULE_GROUP"} <= read  # the scan works
    text = PAGE.read_text()
    missing = sorted(name for name in read if f"`{name}`" not in text)
    assert not missing, f"variables the functions read that docs/configuration.md does not name: {missing}"


def test_a_variable_the_template_does_not_set_is_listed_outside_it(template):
    set_by_template = {v for env in render_configuration.environments(template).values() for v in env}
    outside = PAGE.read_text().split("## Outside the template", 1)[1]
    for name in sorted(variables_read() - set_by_template):
        assert f"`{name}`" in outside, f"{name} is read but not set by the template: say so under Outside the template"


def test_the_check_finds_a_stale_page(template, tmp_path):
    stale = PAGE.read_text().replace("| `EcrTagFilter` |", "| `EcrTagFilters` |")
    assert render_configuration.page_with(stale, render_configuration.generated(template)) != stale
