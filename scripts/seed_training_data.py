"""Puts a little CSV training data where the demo's TRAINING_CHANNELS points.

Usage: .venv/bin/python scripts/seed_training_data.py BUCKET PREFIX

Creates BUCKET (in whatever AWS_ENDPOINT_URL points at: the local emulator in
scripts/demo.sh) and uploads PREFIX/train.csv, a small regression data set in
the headerless "label first" CSV layout SageMaker's built-in algorithms read.
Prints one line: the object's URI and size.
"""

from __future__ import annotations

import random
import sys

import boto3


def sample_csv(rows: int = 200, seed: int = 7) -> str:
    # y = 3*x1 - 2*x2 + 0.5*x3 + noise, deterministic for a given seed.
    rng = random.Random(seed)
    lines = []
    for _ in range(rows):
        x = [round(rng.uniform(-1, 1), 4) for _ in range(3)]
        y = 3 * x[0] - 2 * x[1] + 0.5 * x[2] + rng.gauss(0, 0.1)
        lines.append(",".join(str(v) for v in [round(y, 4), *x]))
    return "\n".join(lines) + "\n"


def main() -> int:
    bucket, prefix = sys.argv[1], sys.argv[2].strip("/")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    key = f"{prefix}/train.csv"
    body = sample_csv().encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")
    rows = body.count(b"\n")
    print(f"s3://{bucket}/{key} ({rows} rows, {len(body)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
