"""The inference side: loading the model `train` wrote, and the WSGI app that
answers SageMaker's hosting contract (GET /ping, POST /invocations).

A plain WSGI callable rather than a web framework: two routes need no more,
and the image stays small. `serve` runs it under gunicorn; tests call it
through a real server too (tests/test_serve.py).
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_FILE = "model.joblib"
METADATA_FILE = "model.json"
METADATA_FORMAT = 1

# SageMaker's real-time payload limit is 6 MB; batch transform passes its
# MaxPayloadInMB as SAGEMAKER_MAX_PAYLOAD_IN_MB (serve reads it).
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024

CSV = "text/csv"
JSON = "application/json"
# Answer types in order of preference: CSV when the client takes anything.
ANSWER_TYPES = (CSV, JSON)

log = logging.getLogger("model_server")


class ModelError(Exception):
    """The model directory holds no model this server can use."""


class BadRequest(Exception):
    """A request the client must fix; the message is the response body."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Model:
    estimator: object
    n_features: int

    def predict(self, rows: list[list[float]]) -> list[float]:
        return [float(v) for v in self.estimator.predict(np.asarray(rows, dtype=np.float64))]


def load_model(model_dir: Path) -> Model:
    """The model in `model_dir`, checked and tried once; ModelError says why not."""
    metadata_path = model_dir / METADATA_FILE
    try:
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"no model: {metadata_path} does not exist (train writes it)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"cannot read {metadata_path}: {err}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != METADATA_FORMAT:
        raise ModelError(f"{metadata_path} is not format {METADATA_FORMAT} model metadata")
    # A pickled estimator is only guaranteed to load into the scikit-learn
    # that wrote it; train and serve share one image, so a mismatch means the
    # model came from another image.
    trained_with = metadata.get("scikit_learn_version")
    installed = importlib.metadata.version("scikit-learn")
    if trained_with != installed:
        raise ModelError(
            f"the model was trained with scikit-learn {trained_with}, this server has "
            f"{installed}: serve it with the image that trained it"
        )
    n_features = metadata.get("n_features")
    if not isinstance(n_features, int) or isinstance(n_features, bool) or n_features < 1:
        raise ModelError(f"{metadata_path}: n_features must be a positive integer")
    # Imported only now: the checks above answer in milliseconds.
    import joblib

    try:
        # joblib unpickles: only ever load artifacts your own training job wrote.
        estimator = joblib.load(model_dir / MODEL_FILE)
    except Exception as err:  # unpickling can raise nearly anything
        raise ModelError(f"cannot load {model_dir / MODEL_FILE}: {type(err).__name__}: {err}") from None
    if getattr(estimator, "n_features_in_", None) != n_features:
        raise ModelError(
            f"{MODEL_FILE} takes {getattr(estimator, 'n_features_in_', '?')} features, "
            f"{METADATA_FILE} says {n_features}"
        )
    model = Model(estimator, n_features)
    try:
        # One prediction now, so that /ping never answers 200 for a model that
        # cannot predict.
        model.predict([[0.0] * n_features])
    except Exception as err:
        raise ModelError(f"the model fails to predict: {type(err).__name__}: {err}") from None
    return model


# --- request bodies ---------------------------------------------------------


def number(value, where: str) -> float:
    # bool is an int in Python, and JSON's true is no feature value.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest("400 Bad Request", f"{where}: {json.dumps(value)[:40]} is not a number")
    try:
        value = float(value)
    except OverflowError:  # an integer beyond float's range
        value = math.inf
    if not math.isfinite(value):
        raise BadRequest("400 Bad Request", f"{where}: values must be finite")
    return value


def checked_row(values: list, n_features: int, where: str) -> list[float]:
    if len(values) != n_features:
        raise BadRequest("400 Bad Request", f"{where} has {len(values)} values; the model takes {n_features}")
    return [number(v, f"{where} value {i}") for i, v in enumerate(values, start=1)]


def rows_from_csv(text: str, n_features: int) -> list[list[float]]:
    """One row per line, no header; blank lines (a trailing newline) skipped,
    CRLF line ends taken."""
    rows = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = []
        for column, cell in enumerate(line.split(","), start=1):
            try:
                cells.append(float(cell))
            except ValueError:
                raise BadRequest(
                    "400 Bad Request",
                    f"line {line_number} column {column}: {cell.strip()[:40]!r} is not a number",
                ) from None
        rows.append(checked_row(cells, n_features, f"line {line_number}"))
    return rows


def reject_constant(name: str):
    # Python's json module reads NaN and Infinity, which JSON does not have.
    raise BadRequest("400 Bad Request", f"{name} is not valid JSON; values must be finite numbers")


def rows_from_json(text: str, n_features: int) -> list[list[float]]:
    """`{"instances": [row, ...]}`, a bare list of rows, or one row; a row is
    a list of numbers or `{"features": [...]}` (SageMaker's built-in
    algorithms' JSON)."""
    try:
        document = json.loads(text, parse_constant=reject_constant)
    except ValueError as err:  # JSONDecodeError, or an integer of over 4300 digits
        raise BadRequest("400 Bad Request", f"invalid JSON: {err}") from None
    except RecursionError:
        raise BadRequest("400 Bad Request", "invalid JSON: nested too deeply") from None
    if isinstance(document, dict):
        if set(document) != {"instances"}:
            raise BadRequest("400 Bad Request", 'a JSON object must be {"instances": [row, ...]}')
        document = document["instances"]
    if not isinstance(document, list):
        raise BadRequest("400 Bad Request", "expected a list of rows, or one row")
    if document and not any(isinstance(item, (list, dict)) for item in document):
        document = [document]  # one row
    rows = []
    for index, item in enumerate(document, start=1):
        where = f"row {index}"
        if isinstance(item, dict) and set(item) == {"features"}:
            item = item["features"]
        if not isinstance(item, list):
            raise BadRequest("400 Bad Request", f"{where} is not a list of numbers")
        rows.append(checked_row(item, n_features, where))
    return rows


def media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def answer_type(accept: str) -> str:
    """The answer's Content-Type for an Accept header: the acceptable range with
    the highest q, ties going to the one listed first; CSV for none or */*."""
    if not accept.strip():
        return CSV
    ranges = []
    for position, part in enumerate(accept.split(",")):
        kind, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if kind and q > 0:
            ranges.append((-q, position, kind.lower()))
    for _, _, kind in sorted(ranges):
        for candidate in ANSWER_TYPES:
            if kind in (candidate, "*/*", candidate.split("/")[0] + "/*"):
                return candidate
    raise BadRequest("406 Not Acceptable", f"cannot answer as {accept}; accepted: {', '.join(ANSWER_TYPES)}")


def read_body(environ, max_bytes: int) -> bytes:
    """Exactly Content-Length bytes; without one (chunked), at most max_bytes."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH", "").strip()
    if length:
        if not (length.isascii() and length.isdigit()):
            raise BadRequest("400 Bad Request", f"invalid Content-Length {length!r}")
        if int(length) > max_bytes:
            # Refused before reading: the body is never held in memory.
            raise BadRequest("413 Content Too Large", f"the body is over {max_bytes} bytes")
        return stream.read(int(length))
    body = stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise BadRequest("413 Content Too Large", f"the body is over {max_bytes} bytes")
    return body


# --- the app ----------------------------------------------------------------


def create_app(model: Model, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES):
    def invocations(environ) -> tuple[bytes, str]:
        content_type = media_type(environ.get("CONTENT_TYPE", ""))
        if content_type not in (CSV, JSON):
            raise BadRequest(
                "415 Unsupported Media Type",
                f"Content-Type {content_type or '(none)'} is not supported; send {CSV} or {JSON}",
            )
        answer = answer_type(environ.get("HTTP_ACCEPT", ""))
        body = read_body(environ, max_body_bytes)
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadRequest("400 Bad Request", "the body is not UTF-8 text") from None
        parse = rows_from_csv if content_type == CSV else rows_from_json
        rows = parse(text, model.n_features)
        if not rows:
            raise BadRequest("400 Bad Request", "the body holds no rows")
        predictions = model.predict(rows)
        if answer == JSON:
            return json.dumps({"predictions": predictions}).encode(), JSON
        return "".join(f"{p!r}\n" for p in predictions).encode(), CSV

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        headers = []
        try:
            if path == "/ping":
                if method not in ("GET", "HEAD"):
                    headers.append(("Allow", "GET, HEAD"))
                    raise BadRequest("405 Method Not Allowed", "use GET /ping")
                status, body, content_type = "200 OK", b"", "text/plain"
            elif path == "/invocations":
                if method != "POST":
                    headers.append(("Allow", "POST"))
                    raise BadRequest("405 Method Not Allowed", "use POST /invocations")
                body, content_type = invocations(environ)
                status = "200 OK"
            else:
                raise BadRequest("404 Not Found", f"no such path {path}; see /ping and /invocations")
        except BadRequest as err:
            status, body, content_type = err.status, f"{err}\n".encode(), "text/plain; charset=utf-8"
        except Exception:  # a bug, not the client's fault: logged, and a 500
            log.exception("%s %s failed", method, path)
            status, body, content_type = "500 Internal Server Error", b"internal error\n", "text/plain"
        headers += [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        start_response(status, headers)
        return [b"" if method == "HEAD" else body]

    return app
