"""DescribeTrainingJob as the evaluate stage reads it, and the test-control
endpoint (control.py) that sets a job's status, failure reason, final metrics
and model artifacts.

One emulator for the module (`shared_emulator`); each test uses jobs of its own.
"""

from __future__ import annotations

import pytest

from harness import ACCOUNT, REGION, training_job_request


@pytest.fixture(scope="module")
def sagemaker(shared_emulator):
    return shared_emulator.client()


def create_job(sagemaker, name: str, output_path: str = "s3://artifacts/churn/") -> dict:
    request = training_job_request(name)
    request["OutputDataConfig"] = {"S3OutputPath": output_path}
    sagemaker.create_training_job(**request)
    return request


# --- stock moto (plus rule 5): a new job -------------------------------------


def test_new_job_is_completed_with_model_artifacts_and_no_metrics(sagemaker):
    request = create_job(sagemaker, "job-fresh")
    described = sagemaker.describe_training_job(TrainingJobName="job-fresh")
    assert described["TrainingJobStatus"] == "Completed"
    assert described["SecondaryStatus"] == "Completed"
    assert described["ModelArtifacts"] == {
        "S3ModelArtifacts": "s3://artifacts/churn/job-fresh/output/model.tar.gz"
    }
    assert described["OutputDataConfig"] == request["OutputDataConfig"]
    assert described["AlgorithmSpecification"] == request["AlgorithmSpecification"]
    # Rule 5: no made-up final metric (moto's own is train:progress = 100).
    assert described.get("FinalMetricDataList", []) == []
    assert "FailureReason" not in described
    for key in ("CreationTime", "TrainingStartTime", "TrainingEndTime", "LastModifiedTime"):
        assert key in described, key


def test_model_artifacts_without_trailing_slash(sagemaker):
    create_job(sagemaker, "job-noslash", output_path="s3://artifacts/models")
    described = sagemaker.describe_training_job(TrainingJobName="job-noslash")
    assert described["ModelArtifacts"]["S3ModelArtifacts"] == (
        "s3://artifacts/models/job-noslash/output/model.tar.gz"
    )


def test_missing_job_is_validation_exception(sagemaker):
    # SageMaker's answer (sagemaker_rules rule 16), not the ResourceNotFound its model declares.
    with pytest.raises(sagemaker.exceptions.ClientError) as excinfo:
        sagemaker.describe_training_job(TrainingJobName="job-never")
    error = excinfo.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == "Requested resource not found."


# --- the test-control endpoint -----------------------------------------------


def test_control_fails_a_job_with_reason_and_metrics(shared_emulator, sagemaker):
    create_job(sagemaker, "job-failed")
    status, state = shared_emulator.control(
        "sagemaker/training-jobs/job-failed",
        {
            "TrainingJobStatus": "Failed",
            "FailureReason": "AlgorithmError: out of memory",
            "FinalMetricDataList": [
                {"MetricName": "validation:auc", "Value": 0.91},
                {"MetricName": "train:loss", "Value": 2},
            ],
        },
    )
    assert status == 200
    assert state == {
        "TrainingJobName": "job-failed",
        "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/job-failed",
        "TrainingJobStatus": "Failed",
        "SecondaryStatus": "Failed",
        "FailureReason": "AlgorithmError: out of memory",
        "FinalMetricDataList": [
            {"MetricName": "validation:auc", "Value": 0.91},
            {"MetricName": "train:loss", "Value": 2.0},
        ],
        "ModelArtifacts": {"S3ModelArtifacts": "s3://artifacts/churn/job-failed/output/model.tar.gz"},
    }

    described = sagemaker.describe_training_job(TrainingJobName="job-failed")
    assert described["TrainingJobStatus"] == "Failed"
    assert described["SecondaryStatus"] == "Failed"
    assert described["FailureReason"] == "AlgorithmError: out of memory"
    metrics = described["FinalMetricDataList"]
    assert [(m["MetricName"], m["Value"]) for m in metrics] == [
        ("validation:auc", 0.91),
        ("train:loss", 2.0),
    ]
    assert all("Timestamp" in m for m in metrics)
    assert "TrainingEndTime" in described


def test_control_metrics_only_keeps_status(shared_emulator, sagemaker):
    create_job(sagemaker, "job-metrics")
    status, state = shared_emulator.control(
        "sagemaker/training-jobs/job-metrics",
        {"FinalMetricDataList": [{"MetricName": "validation:rmse", "Value": 0.25}]},
    )
    assert status == 200 and state["TrainingJobStatus"] == "Completed"
    described = sagemaker.describe_training_job(TrainingJobName="job-metrics")
    assert described["TrainingJobStatus"] == "Completed"
    assert [(m["MetricName"], m["Value"]) for m in described["FinalMetricDataList"]] == [
        ("validation:rmse", 0.25)
    ]


def test_control_in_progress_then_stopped(shared_emulator, sagemaker):
    create_job(sagemaker, "job-progress")
    shared_emulator.control(
        "sagemaker/training-jobs/job-progress",
        {"TrainingJobStatus": "Failed", "FailureReason": "boom"},
    )
    status, state = shared_emulator.control(
        "sagemaker/training-jobs/job-progress", {"TrainingJobStatus": "InProgress"}
    )
    assert status == 200
    described = sagemaker.describe_training_job(TrainingJobName="job-progress")
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("InProgress", "Training")
    assert "FailureReason" not in described  # a new status without a reason clears it
    assert "TrainingEndTime" not in described

    shared_emulator.control("sagemaker/training-jobs/job-progress", {"TrainingJobStatus": "Stopped"})
    described = sagemaker.describe_training_job(TrainingJobName="job-progress")
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert "TrainingEndTime" in described


def test_control_removes_model_artifacts(shared_emulator, sagemaker):
    create_job(sagemaker, "job-nomodel")
    status, state = shared_emulator.control(
        "sagemaker/training-jobs/job-nomodel", {"ModelArtifacts": None}
    )
    assert status == 200 and "ModelArtifacts" not in state
    assert "ModelArtifacts" not in sagemaker.describe_training_job(TrainingJobName="job-nomodel")

    shared_emulator.control(
        "sagemaker/training-jobs/job-nomodel",
        {"ModelArtifacts": {"S3ModelArtifacts": "s3://elsewhere/model.tar.gz"}},
    )
    described = sagemaker.describe_training_job(TrainingJobName="job-nomodel")
    assert described["ModelArtifacts"] == {"S3ModelArtifacts": "s3://elsewhere/model.tar.gz"}


def test_control_region_parameter(shared_emulator):
    west = shared_emulator.client(region="us-west-2")
    create_job(west, "job-west")
    status, _ = shared_emulator.control(
        "sagemaker/training-jobs/job-west", {"TrainingJobStatus": "Failed"}
    )
    assert status == 404  # not in us-east-1
    status, state = shared_emulator.control(
        "sagemaker/training-jobs/job-west?region=us-west-2", {"TrainingJobStatus": "Failed"}
    )
    assert status == 200 and state["TrainingJobArn"].startswith("arn:aws:sagemaker:us-west-2:")
    assert west.describe_training_job(TrainingJobName="job-west")["TrainingJobStatus"] == "Failed"


@pytest.mark.parametrize(
    "body, message",
    [
        pytest.param({"TrainingJobStatus": "Done"}, "TrainingJobStatus: 'Done' is not one of", id="unknown-status"),
        pytest.param({"TrainingJobStatus": None}, "TrainingJobStatus: None is not one of", id="status-null"),
        pytest.param(
            {"Status": "Failed"},
            "body: Additional properties are not allowed ('Status' was unexpected)",
            id="unknown-key",
        ),
        pytest.param({"FailureReason": 3}, "FailureReason: 3 is not of type", id="reason-not-string"),
        pytest.param(
            {"FinalMetricDataList": {"MetricName": "a", "Value": 1}},
            "FinalMetricDataList: ",
            id="metrics-not-list",
        ),
        pytest.param(
            {"FinalMetricDataList": [{"MetricName": "a"}]},
            "FinalMetricDataList[0]: 'Value' is a required property",
            id="metric-without-value",
        ),
        pytest.param(
            {"FinalMetricDataList": [{"MetricName": "a", "Value": 1, "Unit": "%"}]},
            "FinalMetricDataList[0]: Additional properties are not allowed ('Unit' was unexpected)",
            id="metric-unknown-key",
        ),
        pytest.param(
            {"FinalMetricDataList": [{"MetricName": "a", "Value": "1"}]},
            "FinalMetricDataList[0].Value: '1' is not of type 'number'",
            id="value-string",
        ),
        pytest.param(
            {"FinalMetricDataList": [{"MetricName": "a", "Value": True}]},
            "FinalMetricDataList[0].Value: True is not of type 'number'",
            id="value-boolean",
        ),
        pytest.param(
            {"FinalMetricDataList": [{"MetricName": 7, "Value": 1}]},
            "FinalMetricDataList[0].MetricName: 7 is not of type 'string'",
            id="name-not-string",
        ),
        pytest.param({"ModelArtifacts": "s3://b/model.tar.gz"}, "ModelArtifacts: ", id="artifacts-not-object"),
        pytest.param(
            {"ModelArtifacts": {}},
            "ModelArtifacts: 'S3ModelArtifacts' is a required property",
            id="artifacts-without-uri",
        ),
        pytest.param(
            {"ModelArtifacts": {"S3ModelArtifacts": 3}},
            "ModelArtifacts.S3ModelArtifacts: 3 is not of type 'string'",
            id="artifacts-uri-not-string",
        ),
        pytest.param([], "body: [] is not of type 'object'", id="body-not-object"),
        pytest.param(
            b'{"FinalMetricDataList": [{"MetricName": "a", "Value": NaN}]}',
            "NaN is not a JSON number",
            id="value-nan",
        ),
        pytest.param(
            b'{"FinalMetricDataList": [{"MetricName": "a", "Value": 1e999}]}',
            "FinalMetricDataList[0].Value: inf is greater than the maximum",
            id="value-overflows",
        ),
        pytest.param(b"not json", "Expecting value", id="not-json"),
    ],
)
def test_control_rejects_bad_bodies(shared_emulator, sagemaker, body, message):
    # Checked against control.TRAINING_JOB_BODY; the message names the field.
    name = "job-bad-bodies"
    if name not in {j["TrainingJobName"] for j in sagemaker.list_training_jobs()["TrainingJobSummaries"]}:
        create_job(sagemaker, name)
    status, answer = shared_emulator.control(f"sagemaker/training-jobs/{name}", body)
    assert status == 400 and answer["Code"] == "BadRequest", answer
    assert answer["Message"].startswith(message), answer
    described = sagemaker.describe_training_job(TrainingJobName=name)
    assert described["TrainingJobStatus"] == "Completed"
    assert described.get("FinalMetricDataList", []) == []


def test_control_unknown_job_path_and_method(shared_emulator):
    status, answer = shared_emulator.control("sagemaker/training-jobs/job-none", {})
    assert (status, answer["Code"]) == (404, "NotFound")
    status, answer = shared_emulator.control("sagemaker/endpoints/x", {})
    assert (status, answer["Code"]) == (404, "NotFound")
    status, answer = shared_emulator.control("sagemaker/training-jobs/job-none", None, method="GET")
    assert (status, answer["Code"]) == (405, "MethodNotAllowed")
