"""`serve` against SageMaker's hosting contract (README, Serving), through a
real gunicorn on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import shutil

import joblib
import numpy as np
import pytest

import model_server
from conftest import EXAMPLE, SAMPLE_REQUEST, Server

SAMPLE = SAMPLE_REQUEST.read_text()
SAMPLE_ROWS = [[float(v) for v in line.split(",")] for line in SAMPLE.splitlines()]


@pytest.fixture(scope="module")
def expected(trained):
    """The trained model's own predictions for the sample rows."""
    model = joblib.load(trained[0].model_dir / "model.joblib")
    return [float(v) for v in model.predict(np.array(SAMPLE_ROWS))]


def csv_predictions(body: bytes) -> list[float]:
    return [float(line) for line in body.decode().splitlines()]


def test_is_an_executable_script():
    assert os.access(EXAMPLE / "serve", os.X_OK)
    assert (EXAMPLE / "serve").read_text().startswith("#!/usr/bin/env python3\n")


def test_ping(server):
    status, _, body = server.request("GET", "/ping")
    assert (status, body) == (200, b"")


def test_predicts_the_sample_request_as_csv(server, expected):
    status, headers, body = server.request(
        "POST", "/invocations", SAMPLE, {"Content-Type": "text/csv", "Accept": "text/csv"}
    )
    assert status == 200 and headers["Content-Type"] == "text/csv"
    assert csv_predictions(body) == pytest.approx(expected)


def test_answers_every_smoke_test_request(server, expected):
    """smoke-test-requests.jsonl, the sample requests deploy_sagemaker_model's
    smoke test sends on the staging endpoint (docs/deployment.md): each one
    answered 200 with JSON predictions, in the format the smoke test reads."""
    lines = (EXAMPLE / "smoke-test-requests.jsonl").read_text().splitlines()
    requests = [json.loads(line) for line in lines if line.strip()]
    assert len(requests) == 4
    for request in requests:
        assert set(request) <= {"body", "content_type", "accept", "expected"}
        status, headers, body = server.request(
            "POST",
            "/invocations",
            request["body"],
            {"Content-Type": request["content_type"], "Accept": request["accept"]},
        )
        assert status == 200 and headers["Content-Type"] == "application/json", body
        predictions = json.loads(body)["predictions"]
        assert predictions and predictions[0] in [pytest.approx(e) for e in expected]


@pytest.mark.parametrize(
    "body, count",
    [
        (SAMPLE.splitlines()[0], 1),  # one row, no newline
        (SAMPLE.replace("\n", "\r\n"), 3),  # CRLF
        (SAMPLE + "\n\n", 3),  # trailing blank lines
        ("\ufeff" + SAMPLE, 3),  # a byte-order mark
    ],
)
def test_csv_bodies(server, expected, body, count):
    status, _, answer = server.request("POST", "/invocations", body.encode(), {"Content-Type": "text/csv"})
    assert status == 200, answer
    assert csv_predictions(answer) == pytest.approx(expected[:count])


@pytest.mark.parametrize(
    "document, count",
    [
        ({"instances": SAMPLE_ROWS}, 3),
        (SAMPLE_ROWS, 3),  # a bare list of rows
        (SAMPLE_ROWS[0], 1),  # one row
        ({"instances": [{"features": row} for row in SAMPLE_ROWS]}, 3),
    ],
)
def test_json_bodies_answered_as_json(server, expected, document, count):
    status, headers, body = server.request(
        "POST",
        "/invocations",
        json.dumps(document),
        {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"},
    )
    assert status == 200 and headers["Content-Type"] == "application/json"
    answer = json.loads(body)
    assert list(answer) == ["predictions"]
    assert answer["predictions"] == pytest.approx(expected[:count])


@pytest.mark.parametrize(
    "accept, answer_type",
    [
        (None, "text/csv"),
        ("*/*", "text/csv"),
        ("text/*", "text/csv"),
        ("application/json", "application/json"),
        ("text/csv;q=0.5, application/json", "application/json"),
        ("application/json;q=0, */*", "text/csv"),
    ],
)
def test_accept_picks_the_answer_type(server, accept, answer_type):
    headers = {"Content-Type": "text/csv"}
    if accept is not None:
        headers["Accept"] = accept
    status, answer_headers, _ = server.request("POST", "/invocations", SAMPLE, headers)
    assert (status, answer_headers["Content-Type"]) == (200, answer_type)


BAD_CSV = [
    "",
    "\n",
    "a,b,c,d,e,f,g,h,i,j",
    "1,2,3,4,5,6,7,8,9",  # nine values
    "1,2,3,4,5,6,7,8,9,10,11",  # eleven: a training row with its target
    "1,2,3,4,5,6,7,8,9,nan",
    "1,2,3,4,5,6,7,8,9,inf",
    SAMPLE + "1,2,3\n",
]
BAD_JSON = [
    "",
    "{",
    "[1, 2",
    '{"instances": [[1, 2, 3, 4, 5, 6, 7, 8, 9, NaN]]}',
    "[1, 2, 3, 4, 5, 6, 7, 8, 9, Infinity]",
    '[1, 2, 3, 4, 5, 6, 7, 8, 9, "10"]',
    "[1, 2, 3, 4, 5, 6, 7, 8, 9, true]",
    "[1, 2, 3]",
    "[]",
    '{"instances": []}',
    '{"rows": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]}',
    '"text"',
    "[[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5]",
    "[1, 2, 3, 4, 5, 6, 7, 8, 9, 1" + "0" * 400 + "]",  # beyond float's range
    "[1, 2, 3, 4, 5, 6, 7, 8, 9, 1" + "0" * 5000 + "]",  # beyond Python's int parsing limit
    "[" * 100000 + "]" * 100000,  # nested too deeply to parse
]


@pytest.mark.parametrize(
    "content_type, body",
    [pytest.param("text/csv", body, id=f"csv-{i}") for i, body in enumerate(BAD_CSV)]
    + [pytest.param("application/json", body, id=f"json-{i}") for i, body in enumerate(BAD_JSON)],
)
def test_a_malformed_body_is_a_400(server, content_type, body):
    status, headers, answer = server.request(
        "POST", "/invocations", body.encode(), {"Content-Type": content_type}
    )
    assert status == 400, answer
    assert headers["Content-Type"].startswith("text/plain") and answer.strip()


def test_bytes_that_are_not_utf8_are_a_400(server):
    status, _, _ = server.request("POST", "/invocations", b"\xff\xfe\x00", {"Content-Type": "text/csv"})
    assert status == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-npy", None])
def test_an_unsupported_content_type_is_a_415(server, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    status, _, answer = server.request("POST", "/invocations", SAMPLE, headers)
    assert status == 415 and b"text/csv" in answer


def test_an_unsupported_accept_is_a_406(server):
    status, _, _ = server.request(
        "POST", "/invocations", SAMPLE, {"Content-Type": "text/csv", "Accept": "application/x-protobuf"}
    )
    assert status == 406


def test_a_body_over_the_limit_is_a_413_without_being_sent(server):
    # Only the headers: the server must answer from Content-Length alone.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("POST", "/invocations")
        connection.putheader("Content-Type", "text/csv")
        connection.putheader("Content-Length", str(model_server.DEFAULT_MAX_BODY_BYTES + 1))
        connection.endheaders()
        assert connection.getresponse().status == 413
    finally:
        connection.close()


def test_a_body_of_the_limit_is_read(server):
    # One row padded with spaces (which float() takes) to exactly the limit.
    row = SAMPLE.splitlines()[0]
    body = (row + " " * (model_server.DEFAULT_MAX_BODY_BYTES - len(row))).encode()
    status, _, answer = server.request("POST", "/invocations", body, {"Content-Type": "text/csv"})
    assert (status, len(answer.splitlines())) == (200, 1)


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/nope", 404),
        ("POST", "/ping/", 404),
        ("GET", "/invocations", 405),
        ("POST", "/ping", 405),
        ("HEAD", "/ping", 200),
    ],
)
def test_routes(server, method, path, status):
    assert server.request(method, path)[0] == status


def test_still_healthy_after_bad_requests(server):
    assert server.request("GET", "/ping")[0] == 200


def start_and_wait_for_exit(root) -> tuple[int, str]:
    running = Server(root)
    try:
        running.process.wait(timeout=30)
    finally:
        output = running.output()
    return running.process.returncode, output


def test_without_a_model_serve_exits_non_zero(tmp_path):
    code, output = start_and_wait_for_exit(tmp_path)
    assert code != 0
    assert "model.json does not exist" in output


@pytest.mark.parametrize(
    "break_model, words",
    [
        (lambda d: (d / "model.joblib").write_bytes(b"not a pickle"), "cannot load"),
        (lambda d: (d / "model.joblib").unlink(), "cannot load"),
        (
            lambda d: (d / "model.json").write_text(
                json.dumps(dict(json.loads((d / "model.json").read_text()), scikit_learn_version="0.1"))
            ),
            "trained with scikit-learn 0.1",
        ),
        (lambda d: (d / "model.json").write_text("{"), "cannot read"),
    ],
    ids=["corrupt-model", "missing-model", "other-scikit-learn", "corrupt-metadata"],
)
def test_with_a_broken_model_serve_exits_non_zero(trained, tmp_path, break_model, words):
    shutil.copytree(trained[0].model_dir, tmp_path / "model")
    break_model(tmp_path / "model")
    code, output = start_and_wait_for_exit(tmp_path)
    assert code != 0
    assert words in output


def test_a_bad_setting_is_refused(trained):
    running = Server(trained[0].root, SAGEMAKER_MODEL_SERVER_WORKERS="many")
    running.process.wait(timeout=30)
    assert running.process.returncode == 2
    assert "SAGEMAKER_MODEL_SERVER_WORKERS" in running.output()
