"""`train` against SageMaker's training contract (README, Training)."""

from __future__ import annotations

import json
import math
import os
import re

import joblib
import numpy as np
import pytest

from conftest import DATASET, EXAMPLE, OptMl

# The TrainingMetricDefinitions the README gives (and the template defaults to).
METRIC_DEFINITIONS = [
    {"Name": "validation:rmse", "Regex": "validation:rmse=([0-9.eE+-]+);"},
    {"Name": "validation:r2", "Regex": "validation:r2=([0-9.eE+-]+);"},
    {"Name": "validation:mae", "Regex": "validation:mae=([0-9.eE+-]+);"},
    {"Name": "train:rmse", "Regex": "train:rmse=([0-9.eE+-]+);"},
]
DATA_LINES = DATASET.read_text().splitlines()


def assert_failed(result, tree, *words, exit_code=1):
    """Exit code, the failure file (one line, at most 1 KiB) naming `words`,
    the same reason on stderr, and no model."""
    assert result.returncode == exit_code, result.stderr
    reason = tree.failure.read_text(encoding="utf-8")
    assert "\n" not in reason and 0 < len(reason.encode()) <= 1024
    for word in words:
        assert word in reason
    assert reason in result.stderr
    assert not (tree.model_dir / "model.joblib").exists()
    return reason


def test_is_an_executable_script():
    assert os.access(EXAMPLE / "train", os.X_OK)
    assert (EXAMPLE / "train").read_text().startswith("#!/usr/bin/env python3\n")


def test_trains_and_writes_model_metadata_and_report(trained):
    tree, result, seconds = trained
    assert (tree.model_dir / "model.joblib").is_file()
    metadata = json.loads((tree.model_dir / "model.json").read_text())
    assert metadata["n_features"] == 10 and metadata["format"] == 1
    assert metadata["train_rows"] + metadata["validation_rows"] == 442
    assert not tree.failure.exists()

    report = json.loads(tree.evaluation.read_text())
    # SageMaker Model Monitor's model-quality shape for regression, nothing else.
    assert set(report) == {"regression_metrics"}
    metrics = report["regression_metrics"]
    assert set(metrics) == {"mae", "mse", "rmse", "r2"}
    for entry in metrics.values():
        assert set(entry) == {"value", "standard_deviation"}
        assert all(math.isfinite(v) for v in entry.values())
        assert entry["standard_deviation"] > 0
    assert 40 < metrics["rmse"]["value"] < 65
    assert 0.3 < metrics["r2"]["value"] < 0.7
    assert metrics["mae"]["value"] < metrics["rmse"]["value"]
    assert metrics["mse"]["value"] == pytest.approx(metrics["rmse"]["value"] ** 2)
    assert seconds < 30


def test_prints_the_lines_the_metric_definitions_match(trained):
    tree, result, _ = trained
    report = json.loads(tree.evaluation.read_text())["regression_metrics"]
    found = {}
    for definition in METRIC_DEFINITIONS:
        matches = re.findall(definition["Regex"], result.stdout)
        assert len(matches) == 1, definition
        found[definition["Name"]] = float(matches[0])
    for name in ("rmse", "r2", "mae"):
        assert found[f"validation:{name}"] == pytest.approx(report[name]["value"], rel=1e-5)
    # The fit is closer on the rows it saw.
    assert 0 < found["train:rmse"] < found["validation:rmse"]


def test_same_seed_same_report(trained, tmp_path):
    again = OptMl(tmp_path / "again")
    (again.channel("train") / "diabetes.csv").write_text(DATASET.read_text())
    assert again.run_train().returncode == 0
    assert again.evaluation.read_bytes() == trained[0].evaluation.read_bytes()


def test_hyperparameters_are_strings_as_sagemaker_writes_them(opt_ml_with_data):
    tree = opt_ml_with_data
    tree.write_hyperparameters(
        {
            "n_estimators": "50",
            "max_depth": "3",
            "learning_rate": "0.1",
            "subsample": "1.0",
            "min_samples_leaf": "5",
            "seed": "7",
            "validation_fraction": "0.25",
            # Added by SageMaker (tuning jobs, the Python SDK): ignored.
            "_tuning_objective_metric": "validation:rmse",
            "sagemaker_program": "train",
        }
    )
    # A local tree may still hold an earlier run's failure; success clears it.
    tree.failure.parent.mkdir(parents=True)
    tree.failure.write_text("an earlier run failed")
    result = tree.run_train()
    assert result.returncode == 0, result.stderr
    assert not tree.failure.exists()
    metadata = json.loads((tree.model_dir / "model.json").read_text())
    assert metadata["hyperparameters"] == {
        "n_estimators": 50,
        "max_depth": 3,
        "learning_rate": 0.1,
        "subsample": 1.0,
        "min_samples_leaf": 5,
        "seed": 7,
        "validation_fraction": 0.25,
    }
    assert metadata["validation_rows"] == round(0.25 * 442)
    model = joblib.load(tree.model_dir / "model.joblib")
    assert (model.n_estimators, model.max_depth, model.random_state) == (50, 3, 7)


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("n_estimators", "0", ["n_estimators", "[1, 5000]"]),
        ("n_estimators", "ten", ["n_estimators", "integer"]),
        ("max_depth", "2.5", ["max_depth", "integer"]),
        ("learning_rate", "0", ["learning_rate", "(0.0, 1.0]"]),
        ("learning_rate", "nan", ["learning_rate"]),
        ("subsample", "1.5", ["subsample", "(0.0, 1.0]"]),
        ("validation_fraction", "0.9", ["validation_fraction", "[0.05, 0.5]"]),
        ("seed", "-1", ["seed"]),
        ("colour", "blue", ["unknown hyperparameter 'colour'", "n_estimators"]),
    ],
)
def test_a_bad_hyperparameter_fails_naming_it(opt_ml_with_data, train_in_process, name, value, words):
    opt_ml_with_data.write_hyperparameters({name: value})
    result = train_in_process(opt_ml_with_data)
    assert_failed(result, opt_ml_with_data, *words, exit_code=2)


def test_a_bad_hyperparameter_exits_2(opt_ml_with_data):
    opt_ml_with_data.write_hyperparameters({"max_depth": "deep"})
    result = opt_ml_with_data.run_train()
    assert_failed(result, opt_ml_with_data, "max_depth", "[1, 32]", exit_code=2)


@pytest.mark.parametrize(
    "text, words",
    [
        ("{", ["cannot read", "hyperparameters.json"]),
        ("[1, 2]", ["must hold a JSON object"]),
        ('{"n_estimators": true}', ["n_estimators=true", "[1, 5000]"]),
    ],
)
def test_a_bad_hyperparameters_file_fails(opt_ml_with_data, train_in_process, text, words):
    path = opt_ml_with_data.root / "input" / "config" / "hyperparameters.json"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    result = train_in_process(opt_ml_with_data)
    assert_failed(result, opt_ml_with_data, *words, exit_code=2)


def test_the_failure_reason_is_cut_to_one_kibibyte(opt_ml_with_data, train_in_process):
    opt_ml_with_data.write_hyperparameters({"x" * 3000: "1"})
    result = train_in_process(opt_ml_with_data)
    reason = assert_failed(result, opt_ml_with_data, "unknown hyperparameter", exit_code=2)
    assert len(reason.encode()) == 1024


def test_a_validation_channel_is_what_is_measured(opt_ml):
    (opt_ml.channel("train") / "train.csv").write_text("\n".join(DATA_LINES[:342]) + "\n")
    (opt_ml.channel("validation") / "validation.csv").write_text("\n".join(DATA_LINES[342:]) + "\n")
    result = opt_ml.run_train()
    assert result.returncode == 0, result.stderr
    metadata = json.loads((opt_ml.model_dir / "model.json").read_text())
    assert (metadata["train_rows"], metadata["validation_rows"]) == (342, 100)
    assert metadata["validation_source"] == "validation channel"

    # The report is the model measured on exactly those 100 rows.
    rows = np.array([[float(v) for v in line.split(",")] for line in DATA_LINES[342:]])
    predicted = joblib.load(opt_ml.model_dir / "model.joblib").predict(rows[:, 1:])
    rmse = float(np.sqrt(np.mean((rows[:, 0] - predicted) ** 2)))
    report = json.loads(opt_ml.evaluation.read_text())["regression_metrics"]
    assert report["rmse"]["value"] == pytest.approx(rmse)


def test_every_csv_file_of_a_channel_is_read_in_path_order(trained, opt_ml):
    train = opt_ml.channel("train")
    (train / "a").mkdir()
    (train / "b").mkdir()
    # CRLF line ends, an empty part file, and files that are not CSV.
    (train / "a" / "part-0.csv").write_bytes(("\r\n".join(DATA_LINES[:200]) + "\r\n").encode())
    (train / "a" / "part-1.csv").write_text("")
    (train / "b" / "part-2.csv").write_text("\n".join(DATA_LINES[200:]))
    (train / "_SUCCESS").write_text("")
    (train / "notes.txt").write_text("not data\n")
    # What SageMaker writes: the channels, each with its settings.
    opt_ml.write_input_data_config({"train": {"TrainingInputMode": "File"}})
    assert opt_ml.run_train().returncode == 0
    # The same rows in the same order as the one-file run: the same report.
    assert opt_ml.evaluation.read_bytes() == trained[0].evaluation.read_bytes()


def write_train(tree, text: str) -> None:
    (tree.channel("train") / "data.csv").write_text(text)


@pytest.mark.parametrize(
    "arrange, words",
    [
        (lambda tree: None, ["no 'train' channel"]),
        (lambda tree: tree.channel("train"), ["no .csv file"]),
        (lambda tree: write_train(tree, ""), ["holds no rows"]),
        (lambda tree: write_train(tree, "\n\n"), ["holds no rows"]),
        (
            lambda tree: write_train(tree, "\n".join(DATA_LINES[:50] + ["1,2,x,4,5,6,7,8,9,10,11"])),
            ["data.csv line 51 column 3 is not a number"],
        ),
        (
            lambda tree: write_train(tree, "y,age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n" + "\n".join(DATA_LINES)),
            ["line 1 column 1 is not a number", "no header"],
        ),
        (
            lambda tree: write_train(tree, "\n".join(DATA_LINES[:30] + ["1,2,3"])),
            ["line 31 has 3 columns; expected 11"],
        ),
        (
            lambda tree: write_train(tree, "\n".join(DATA_LINES[:30] + ["1,2,3,4,5,nan,7,8,9,10,11"])),
            ["line 31 column 6", "finite"],
        ),
        (lambda tree: write_train(tree, "\n".join(DATA_LINES[:15])), ["too few rows"]),
        (lambda tree: (tree.channel("train"), tree.channel("test")), ["unknown channel 'test'"]),
        (
            lambda tree: (
                write_train(tree, "\n".join(DATA_LINES)),
                tree.write_input_data_config({"train": {"TrainingInputMode": "Pipe"}}),
            ),
            ["Pipe"],
        ),
        (
            lambda tree: (
                tree.channel("validation"),
                tree.write_input_data_config({"validation": {}}),
            ),
            ["no 'train' channel"],
        ),
        (
            lambda tree: (
                write_train(tree, "\n".join(DATA_LINES)),
                (tree.channel("validation") / "v.csv").write_text("1,2\n"),
            ),
            ["channel 'validation'", "has 2 columns"],
        ),
        (lambda tree: (tree.channel("train") / "data.csv").write_bytes(b"\xff\xfe1,2\n"), ["not UTF-8"]),
    ],
    ids=[
        "no-train-channel",
        "no-csv-file",
        "empty-csv",
        "blank-lines-only",
        "non-numeric-cell",
        "header-row",
        "ragged-row",
        "nan-cell",
        "too-few-rows",
        "unknown-channel",
        "pipe-mode",
        "inputdataconfig-without-train",
        "bad-validation-channel",
        "not-utf8",
    ],
)
def test_bad_input_fails_with_the_reason(opt_ml, train_in_process, arrange, words):
    arrange(opt_ml)
    result = train_in_process(opt_ml)
    assert_failed(result, opt_ml, *words)


def test_bad_input_exits_1(opt_ml):
    write_train(opt_ml, "1,2,3\n")
    result = opt_ml.run_train()
    assert_failed(result, opt_ml, "has 3 columns")
