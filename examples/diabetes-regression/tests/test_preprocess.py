"""`preprocess` against SageMaker Processing's contract (README, Preprocessing):
raw CSV under /opt/ml/processing/input/raw, the three sets under
/opt/ml/processing/output/<set>/, the row counts or the reason in
/opt/ml/output/message (the job's ExitMessage)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATASET, EXAMPLE, OptMl

from dataset import N_COLUMNS, parse_row

SETS = ("train", "validation", "test")


class Tree:
    """A processing job's /opt/ml tree."""

    def __init__(self, root: Path):
        self.root = root
        self.raw = root / "processing" / "input" / "raw"
        self.raw.mkdir(parents=True)

    def output(self, name: str) -> Path:
        return self.root / "processing" / "output" / name / f"{name}.csv"

    def lines(self, name: str) -> list[str]:
        return self.output(name).read_text(encoding="utf-8").splitlines()

    @property
    def message(self) -> str:
        return (self.root / "output" / "message").read_text(encoding="utf-8")

    def run(self, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, OPT_ML=str(self.root))
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run([str(EXAMPLE / "preprocess"), *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def tree(tmp_path) -> Tree:
    return Tree(tmp_path / "ml")


def dataset_lines() -> list[str]:
    return [line for line in DATASET.read_text().splitlines() if line.strip()]


def rows_of(lines: list[str]) -> set[tuple[float, ...]]:
    return {tuple(parse_row(line, "test", False)) for line in lines}


def test_the_data_set_is_split_into_three_sets(tree):
    shutil.copy(DATASET, tree.raw / "diabetes.csv")
    result = tree.run()
    assert result.returncode == 0, result.stderr
    counts = {name: len(tree.lines(name)) for name in SETS}
    assert sum(counts.values()) == len(dataset_lines()) == 442
    # About 70 / 15 / 15 by default.
    assert 0.6 < counts["train"] / 442 < 0.8 and all(30 < counts[n] < 100 for n in ("validation", "test"))
    # Every row is the data set's, in exactly one set, and reads back as train reads it.
    sets = {name: rows_of(tree.lines(name)) for name in SETS}
    assert set().union(*sets.values()) == rows_of(dataset_lines())
    assert not (sets["train"] & sets["validation"]) and not (sets["train"] & sets["test"])
    assert all(len(row) == N_COLUMNS for rows in sets.values() for row in rows)
    assert json.loads(tree.message) == {"rows": counts, "files": 1, "duplicates_dropped": 0}
    assert result.stdout.splitlines() == [f"rows:{name}={counts[name]};" for name in SETS]


def test_a_rows_set_depends_on_its_values_only(tmp_path):
    lines = dataset_lines()
    whole = Tree(tmp_path / "whole")
    shutil.copy(DATASET, whole.raw / "diabetes.csv")
    assert whole.run().returncode == 0
    # The same rows in three files with other names, in another order.
    parts = Tree(tmp_path / "parts")
    (parts.raw / "z.csv").write_text("\n".join(lines[:100]) + "\n")
    (parts.raw / "a" / "b.csv").parent.mkdir()
    (parts.raw / "a" / "b.csv").write_text("\n".join(reversed(lines[100:300])) + "\n")
    (parts.raw / "m.csv").write_text("\n".join(lines[300:]) + "\n")
    assert parts.run().returncode == 0
    # Fewer rows: the ones it has stay where they were.
    fewer = Tree(tmp_path / "fewer")
    (fewer.raw / "first.csv").write_text("\n".join(lines[:300]) + "\n")
    assert fewer.run().returncode == 0
    for name in SETS:
        assert rows_of(parts.lines(name)) == rows_of(whole.lines(name))
        assert rows_of(fewer.lines(name)) <= rows_of(whole.lines(name))


def test_duplicates_are_dropped_and_counted(tree):
    shutil.copy(DATASET, tree.raw / "diabetes.csv")
    (tree.raw / "again.csv").write_text("\n".join(dataset_lines()[:40]) + "\n")
    result = tree.run()
    assert result.returncode == 0, result.stderr
    message = json.loads(tree.message)
    assert message["duplicates_dropped"] == 40 and message["files"] == 2
    assert sum(message["rows"].values()) == 442


def test_the_fractions_are_arguments(tree):
    shutil.copy(DATASET, tree.raw / "diabetes.csv")
    assert tree.run("--validation-fraction", "0.1", "--test-fraction", "0.3").returncode == 0
    rows = json.loads(tree.message)["rows"]
    assert rows["test"] > 2 * rows["validation"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("short.csv", "151,59,2,32.1\n", "raw data: short.csv line 1 has 4 columns; expected 11"),
        ("text.csv", "151,59,2,32.1,101,157,93.2,38,4,4.8598,eighty\n", "short"),
        ("inf.csv", "151,59,2,32.1,101,157,93.2,38,4,4.8598,inf\n", "raw data: inf.csv line 1 column 11 is 'inf'"),
        ("header.csv", "target,age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n", "(the CSV must have no header row)"),
        ("latin1.csv", b"caf\xe9\n", "raw data: latin1.csv is not UTF-8 text"),
    ],
)
def test_a_corrupt_raw_file_fails_with_the_reason(tree, name, content, reason):
    shutil.copy(DATASET, tree.raw / "diabetes.csv")
    path = tree.raw / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = tree.run()
    assert result.returncode == 1
    if reason == "short":
        reason = "raw data: text.csv line 1 column 11 is not a number: 'eighty'"
    assert reason in tree.message and reason in result.stderr
    assert not any(tree.output(n).exists() for n in SETS)  # nothing half-written


def test_without_raw_data_it_says_so(tmp_path):
    tree = Tree(tmp_path / "ml")
    result = tree.run()
    assert result.returncode == 1
    assert "raw data has no .csv file" in tree.message
    shutil.rmtree(tree.raw)
    result = tree.run()
    assert result.returncode == 1 and "needs a ProcessingInput named raw" in tree.message


def test_too_few_rows_to_split(tree):
    (tree.raw / "few.csv").write_text("\n".join(dataset_lines()[:30]) + "\n")
    result = tree.run()
    assert result.returncode == 1
    assert "too few rows to split: 30 distinct rows in 1 file(s)" in tree.message


@pytest.mark.parametrize("args", [("--test-fraction", "0.9"), ("--validation-fraction", "0.45", "--test-fraction", "0.45"), ("--nope",)])
def test_bad_arguments_are_refused(tree, args):
    result = tree.run(*args)
    assert result.returncode == 2
    assert "preprocess: bad ContainerArguments: " in result.stderr
    assert tree.message.startswith("preprocess: bad ContainerArguments: ")  # the job's ExitMessage says why


def test_train_takes_the_outputs_as_its_channels(tree, tmp_path):
    shutil.copy(DATASET, tree.raw / "diabetes.csv")
    assert tree.run().returncode == 0
    training = OptMl(tmp_path / "training")
    for name in ("train", "validation"):
        shutil.copy(tree.output(name), training.channel(name) / f"{name}.csv")
    result = training.run_train()
    assert result.returncode == 0, result.stderr
    report = json.loads(training.evaluation.read_text())
    assert report["regression_metrics"]["rmse"]["value"] > 0
    assert f"holding out {len(tree.lines('validation'))} (validation channel)" in result.stdout
