"""The example's data set as `preprocess` and `train` read it: CSV rows of
the target, then the ten features, numbers only, no header.

One place for the schema, so the raw data's check (preprocess) and the
training data's (train) cannot drift apart. Plain Python rather than a bulk
parser so that an error names the file, line and column; the example's data
are small. For large data, a bulk parser (numpy.loadtxt, pandas) is the place
to change.
"""

from __future__ import annotations

import math
from pathlib import Path

# Features in the order of the CSV columns (after the target). serve checks
# requests against the count recorded in model.json.
FEATURE_NAMES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")
N_COLUMNS = 1 + len(FEATURE_NAMES)


class RowError(ValueError):
    """A file or row that does not fit the schema, worded for the person who
    reads the job's failure reason."""


def parse_row(line: str, where: str, first_line: bool) -> list[float]:
    cells = line.split(",")
    if len(cells) != N_COLUMNS:
        raise RowError(
            f"{where} has {len(cells)} columns; expected {N_COLUMNS} "
            f"(the target, then {len(FEATURE_NAMES)} features: {', '.join(FEATURE_NAMES)})"
        )
    row = []
    for column, cell in enumerate(cells, start=1):
        try:
            value = float(cell)
        except ValueError:
            hint = " (the CSV must have no header row)" if first_line else ""
            raise RowError(f"{where} column {column} is not a number: {cell.strip()[:40]!r}{hint}") from None
        if not math.isfinite(value):
            raise RowError(f"{where} column {column} is {cell.strip()!r}; values must be finite")
        row.append(value)
    return row


def read_rows(directory: Path, label: str) -> tuple[list[list[float]], list[Path]]:
    """Every row of every *.csv file under `directory` (recursively, by path),
    and the files read. `label` names the directory in errors ("channel 'train'")."""
    files = sorted(p for p in directory.rglob("*.csv") if p.is_file())
    if not files:
        raise RowError(f"{label} has no .csv file under {directory}")
    rows = []
    for path in files:
        shown = path.relative_to(directory)
        try:
            text = path.read_text(encoding="utf-8-sig")  # tolerates a UTF-8 BOM
        except UnicodeDecodeError as err:
            raise RowError(f"{label}: {shown} is not UTF-8 text: {err}") from None
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                rows.append(parse_row(line, f"{label}: {shown} line {number}", number == 1))
    if not rows:
        raise RowError(f"{label} holds no rows ({len(files)} .csv file(s), all empty)")
    return rows, files
