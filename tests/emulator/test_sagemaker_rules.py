"""Tests of the emulator launcher and of rules 1-5 in sagemaker_rules.

Run from the repository root: .venv/bin/python -m pytest tests/emulator -q
Each test gets its own launcher process (fresh moto state, the `emulator` and
`sagemaker` fixtures of conftest.py) and talks to it with boto3, dummy
credentials, region us-east-1.
"""

from __future__ import annotations

import copy
import socket
import threading

import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, ROLE, Launcher, error_of, training_job_request


def create_model(sagemaker, name: str, image: str = "inference:1") -> dict:
    return sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": image, "ModelDataUrl": "s3://artifacts/model.tar.gz"},
    )


def create_endpoint_config(sagemaker, name: str, model: str) -> dict:
    return sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )


# --- rule 1: training job names are unique ---------------------------------


def test_duplicate_training_job_is_resource_in_use(sagemaker):
    first = sagemaker.create_training_job(**training_job_request("churn-1"))
    arn = first["TrainingJobArn"]
    assert arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/churn-1"

    again = training_job_request("churn-1")
    again["HyperParameters"] = {"eta": "0.9"}
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_training_job(**again)

    assert error_of(excinfo) == (
        400,
        "ResourceInUse",
        "Training job names must be unique within an AWS account and region, "
        f"and a training job with this name already exists ({arn})",
    )
    jobs = sagemaker.list_training_jobs()["TrainingJobSummaries"]
    assert [job["TrainingJobName"] for job in jobs] == ["churn-1"]
    # The first job is untouched.
    described = sagemaker.describe_training_job(TrainingJobName="churn-1")
    assert described["HyperParameters"] == training_job_request("churn-1")["HyperParameters"]


def test_duplicate_training_job_wire_format(emulator):
    """The raw answer is what the Rust SDK parses: HTTP 400 and __type ResourceInUse."""
    sagemaker = emulator.client()
    sagemaker.create_training_job(**training_job_request("wire"))
    seen = {}

    def capture(http_response, **_):
        seen["status"] = http_response.status_code
        seen["body"] = http_response.content.decode()

    sagemaker.meta.events.register("after-call.sagemaker.CreateTrainingJob", capture)
    with pytest.raises(ClientError):
        sagemaker.create_training_job(**training_job_request("wire"))
    assert seen["status"] == 400
    assert '"__type"' in seen["body"] and "ResourceInUse" in seen["body"]


def test_concurrent_duplicate_training_jobs_one_wins(emulator):
    results = []

    def create(client):
        try:
            client.create_training_job(**training_job_request("race"))
            results.append("created")
        except ClientError as error:
            results.append(error.response["Error"]["Code"])

    threads = [threading.Thread(target=create, args=(emulator.client(),)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["ResourceInUse"] * 7 + ["created"]


def test_distinct_training_job_names_both_succeed(sagemaker):
    sagemaker.create_training_job(**training_job_request("churn-a"))
    sagemaker.create_training_job(**training_job_request("churn-b"))
    names = {j["TrainingJobName"] for j in sagemaker.list_training_jobs()["TrainingJobSummaries"]}
    assert names == {"churn-a", "churn-b"}


# --- rules 2-4: model, endpoint configuration and endpoint names are unique -


def test_duplicate_model_is_validation_exception(sagemaker):
    arn = create_model(sagemaker, "churn-model")["ModelArn"]
    with pytest.raises(ClientError) as excinfo:
        create_model(sagemaker, "churn-model", image="inference:2")
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f'Cannot create already existing model "{arn}".',
    )
    described = sagemaker.describe_model(ModelName="churn-model")
    assert described["PrimaryContainer"]["Image"] == "inference:1"
    create_model(sagemaker, "churn-model-2")  # a distinct name still works


def test_duplicate_endpoint_config_is_validation_exception(sagemaker):
    create_model(sagemaker, "m")
    arn = create_endpoint_config(sagemaker, "churn-config", "m")["EndpointConfigArn"]
    assert arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/churn-config"
    with pytest.raises(ClientError) as excinfo:
        create_endpoint_config(sagemaker, "churn-config", "m")
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f'Cannot create already existing endpoint configuration "{arn}".',
    )
    create_endpoint_config(sagemaker, "churn-config-2", "m")


def test_duplicate_endpoint_is_validation_exception(sagemaker):
    create_model(sagemaker, "m")
    create_endpoint_config(sagemaker, "c1", "m")
    create_endpoint_config(sagemaker, "c2", "m")
    arn = sagemaker.create_endpoint(EndpointName="churn", EndpointConfigName="c1")["EndpointArn"]
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_endpoint(EndpointName="churn", EndpointConfigName="c2")
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f'Cannot create already existing endpoint "{arn}".',
    )
    assert sagemaker.describe_endpoint(EndpointName="churn")["EndpointConfigName"] == "c1"
    sagemaker.create_endpoint(EndpointName="churn-2", EndpointConfigName="c2")


def test_names_are_unique_per_kind_not_across_kinds(sagemaker):
    """SageMaker's namespaces are per resource type: one name for each kind is fine."""
    create_model(sagemaker, "churn")
    create_endpoint_config(sagemaker, "churn", "churn")
    sagemaker.create_endpoint(EndpointName="churn", EndpointConfigName="churn")
    sagemaker.create_training_job(**training_job_request("churn"))


# --- rule 5 and stock echo: DescribeTrainingJob returns what was sent -------


def test_describe_training_job_echoes_request(sagemaker):
    request = training_job_request("echo")
    arn = sagemaker.create_training_job(**copy.deepcopy(request))["TrainingJobArn"]
    described = sagemaker.describe_training_job(TrainingJobName="echo")

    assert described["TrainingJobArn"] == arn
    assert described["RoleArn"] == request["RoleArn"]
    assert described["AlgorithmSpecification"] == request["AlgorithmSpecification"]
    assert described["InputDataConfig"] == request["InputDataConfig"]
    assert described["OutputDataConfig"] == request["OutputDataConfig"]
    assert described["ResourceConfig"] == request["ResourceConfig"]
    assert described["StoppingCondition"] == request["StoppingCondition"]
    assert described["HyperParameters"] == request["HyperParameters"]
    assert described["EnableManagedSpotTraining"] is True
    assert described["CheckpointConfig"] == request["CheckpointConfig"]
    assert described["VpcConfig"] == request["VpcConfig"]

    tags = sagemaker.list_tags(ResourceArn=arn)["Tags"]
    assert tags == request["Tags"]


def test_metric_definitions_omitted_when_none_sent(sagemaker):
    request = training_job_request("no-metrics")
    del request["AlgorithmSpecification"]["MetricDefinitions"]
    sagemaker.create_training_job(**request)
    described = sagemaker.describe_training_job(TrainingJobName="no-metrics")
    assert described["AlgorithmSpecification"] == request["AlgorithmSpecification"]


# --- the launcher itself -----------------------------------------------------


def _port_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return False
    except OSError:
        return True


def test_launcher_exits_when_stdin_closes():
    launcher = Launcher()
    try:
        assert not _port_closed(launcher.port)
        launcher.process.stdin.close()
        assert launcher.process.wait(timeout=15) == 0
        assert _port_closed(launcher.port)
        assert launcher.process.stdout.read() == b""  # nothing after READY
    finally:
        launcher.stop()


def test_launcher_exits_cleanly_on_sigterm():
    launcher = Launcher()
    try:
        launcher.process.terminate()
        assert launcher.process.wait(timeout=15) == 0
        assert _port_closed(launcher.port)
    finally:
        launcher.stop()


def test_tags_of_a_resource_that_does_not_exist_are_a_validation_exception(sagemaker):
    """Rule 17: ListTags, AddTags and DeleteTags on a missing endpoint's ARN."""
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/mlops--endpoint"
    for call in (
        lambda: sagemaker.list_tags(ResourceArn=arn),
        lambda: sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}]),
        lambda: sagemaker.delete_tags(ResourceArn=arn, TagKeys=["k"]),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        error = caught.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert error["Error"] == {**error["Error"], "Code": "ValidationException", "Message": "Resource does not exist."}
    # Once it exists, its tags are read.
    create_model(sagemaker, "m")
    create_endpoint_config(sagemaker, "c", "m")
    sagemaker.create_endpoint(EndpointName="mlops--endpoint", EndpointConfigName="c", Tags=[{"Key": "k", "Value": "v"}])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
