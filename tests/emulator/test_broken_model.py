"""The broken-model fixture (fixtures/broken-model) served by the local SageMaker:
a model that passes the health check and then answers badly, for the tests of
a smoke test that must catch it.

One emulator for the module, started with a local-images file that maps the
repository ``broken-model`` to the fixture and each of its tags to a
``BROKEN_MODE``. The model archive is what the fixture's own ``train`` wrote
in a training job.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, ROLE, Launcher, wait

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "broken-model"
REPOSITORY = "broken-model"
BUCKET = "broken-model"
DELAY = 1.0
TAGS = {
    "v500": {"environment": {"BROKEN_MODE": "500"}},
    "vgarbage": {"environment": {"BROKEN_MODE": "garbage"}},
    "vslow": {"environment": {"BROKEN_MODE": "slow", "BROKEN_DELAY_SECONDS": str(DELAY)}},
    # "vgood" is not listed: no BROKEN_MODE, a model that answers well
}


def image(tag: str) -> str:
    return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}:{tag}"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    config = tmp_path_factory.mktemp("local-images") / "local-images.json"
    config.write_text(json.dumps({"repositories": {REPOSITORY: {"example": str(FIXTURE), "tags": TAGS}}}))
    launcher = Launcher(["--local-images", str(config)])
    try:
        launcher.client("s3").create_bucket(Bucket=BUCKET)
        yield launcher
    finally:
        launcher.stop()


@pytest.fixture(scope="module")
def model_data(emulator) -> str:
    """The fixture's train run as a training job: the model.tar.gz it uploaded."""
    sagemaker = emulator.client()
    sagemaker.create_training_job(
        TrainingJobName="broken-model-train",
        AlgorithmSpecification={"TrainingImage": image("v500"), "TrainingInputMode": "File"},
        RoleArn=ROLE,
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    job = wait(lambda: sagemaker.describe_training_job(TrainingJobName="broken-model-train"), "TrainingJobStatus", "InProgress")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    return job["ModelArtifacts"]["S3ModelArtifacts"]


def serve(emulator, model_data: str, tag: str, name: str | None = None) -> str:
    """An endpoint on the fixture's model with the image tag ``tag``, InService."""
    sagemaker = emulator.client()
    name = name or f"broken-{tag}"
    sagemaker.create_model(
        ModelName=name, PrimaryContainer={"Image": image(tag), "ModelDataUrl": model_data}, ExecutionRoleArn=ROLE
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    described = wait(lambda: sagemaker.describe_endpoint(EndpointName=name), "EndpointStatus", "Creating")
    assert described["EndpointStatus"] == "InService", described.get("FailureReason")
    return name


def invoke(emulator, endpoint: str):
    return emulator.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, ContentType="application/json", Body=b'{"instances": [[1, 2, 3]]}'
    )


def test_train_writes_a_small_model(emulator, model_data):
    bucket, key = model_data[len("s3://") :].split("/", 1)
    body = emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        assert json.loads(tar.extractfile("broken-model.json").read())["name"] == "broken-model"


def test_without_broken_mode_the_model_answers_well(emulator, model_data):
    answer = invoke(emulator, serve(emulator, model_data, "vgood"))
    assert answer["ContentType"] == "application/json"
    assert json.loads(answer["Body"].read()) == {"predictions": [1.0]}


def test_mode_500_is_a_model_error(emulator, model_data):
    endpoint = serve(emulator, model_data, "v500")
    with pytest.raises(ClientError) as excinfo:
        invoke(emulator, endpoint)
    response = excinfo.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert response["Error"]["Code"] == "ModelError"
    assert response["OriginalStatusCode"] == 500
    assert response["OriginalMessage"] == "model failure: BROKEN_MODE=500"
    assert "Received server error (500) from primary" in response["Error"]["Message"]


def test_mode_garbage_is_a_200_whose_json_does_not_parse(emulator, model_data):
    answer = invoke(emulator, serve(emulator, model_data, "vgarbage"))
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert answer["ContentType"] == "application/json"
    body = answer["Body"].read()
    assert body == b'{"predictions": [1.0,'
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


def test_mode_slow_answers_well_after_the_delay(emulator, model_data):
    endpoint = serve(emulator, model_data, "vslow")
    started = time.monotonic()
    answer = invoke(emulator, endpoint)
    assert time.monotonic() - started >= DELAY
    assert json.loads(answer["Body"].read()) == {"predictions": [1.0]}


def test_held_changes_leave_local_endpoints_alone(emulator, model_data):
    """The region's CreateSeconds/UpdateSeconds (control.py) hold stock endpoints
    only: a local one is Creating/Updating until its server answers /ping, as before."""
    sagemaker = emulator.client()
    assert emulator.control("sagemaker/endpoint-defaults", {"CreateSeconds": 60, "UpdateSeconds": 60})[0] == 200
    try:
        endpoint = serve(emulator, model_data, "v500", name="broken-held")  # InService well before 60 s
        serve(emulator, model_data, "vgood", name="broken-held-good")  # a configuration to update to
        sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName="broken-held-good")
        described = wait(lambda: sagemaker.describe_endpoint(EndpointName=endpoint), "EndpointStatus", "Updating", timeout=30)
        assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "broken-held-good")
        assert json.loads(invoke(emulator, endpoint)["Body"].read()) == {"predictions": [1.0]}
    finally:
        emulator.control("sagemaker/endpoint-defaults", {})
