"""The committed data files are what data/make_dataset.py generates."""

from __future__ import annotations

import importlib.util

from sklearn.datasets import load_diabetes

from conftest import DATASET, EXAMPLE, SAMPLE_REQUEST


def make_dataset():
    spec = importlib.util.spec_from_file_location("make_dataset", EXAMPLE / "data" / "make_dataset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_files_are_what_the_generator_writes():
    generator = make_dataset()
    # Byte for byte: a stale or hand-edited file fails here; rerun
    # `python3 data/make_dataset.py`.
    assert DATASET.read_text(encoding="utf-8") == generator.dataset_csv()
    assert SAMPLE_REQUEST.read_text(encoding="utf-8") == generator.sample_request_csv()


def test_dataset_is_headerless_target_first_and_exact():
    rows = [[float(v) for v in line.split(",")] for line in DATASET.read_text().splitlines()]
    data = load_diabetes(scaled=False)
    assert len(rows) == 442
    assert all(len(row) == 11 for row in rows)  # parsing line 1 as numbers: no header
    assert [row[0] for row in rows] == list(data.target)
    assert [row[1:] for row in rows] == data.data.tolist()


def test_sample_request_is_features_only():
    lines = SAMPLE_REQUEST.read_text().splitlines()
    assert lines and all(len(line.split(",")) == 10 for line in lines)
