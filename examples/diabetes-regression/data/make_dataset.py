#!/usr/bin/env python3
"""Writes the example's data files from scikit-learn's bundled diabetes data.

    python3 data/make_dataset.py          # (re)writes both files
    python3 data/make_dataset.py --check  # exit 1 if a committed file differs

- data/diabetes.csv: all 442 rows, no header, the target first and then the
  10 features (SageMaker's CSV convention for training data).
- sample-request.csv: the features of the first rows, for POST /invocations.

The values are the raw, unscaled ones (`load_diabetes(scaled=False)`): age in
years, BMI, blood pressure, serum measurements. They read as what they are, so
a hand-written request makes sense. The data ships inside the scikit-learn
wheel pinned in requirements.txt, so nothing is downloaded and the output is
the same byte for byte on every machine (tests/test_dataset.py checks it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sklearn.datasets import load_diabetes

HERE = Path(__file__).resolve().parent
DATASET = HERE / "diabetes.csv"
SAMPLE_REQUEST = HERE.parent / "sample-request.csv"
SAMPLE_ROWS = 3


def number(value: float) -> str:
    # 15 significant digits give back the decimal text the values were read
    # from ("32.1", "4.8598"), and integral values print without ".0".
    return format(float(value), ".15g")


def csv_text(rows) -> str:
    return "".join(",".join(number(v) for v in row) + "\n" for row in rows)


def dataset_csv() -> str:
    data = load_diabetes(scaled=False)
    return csv_text([target, *features] for target, features in zip(data.target, data.data, strict=True))


def sample_request_csv() -> str:
    return csv_text(load_diabetes(scaled=False).data[:SAMPLE_ROWS])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    stale = []
    for path, text in ((DATASET, dataset_csv()), (SAMPLE_REQUEST, sample_request_csv())):
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    for path in stale:
        print(f"{path} differs from what {Path(__file__).name} generates", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
