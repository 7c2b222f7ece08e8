"""Local SageMaker (local_sagemaker.py): the example model trained and served for real.

One emulator for the module, started with a local-images file that maps the
repository ``mlops-training`` to examples/diabetes-regression, and the tag
``worse`` to hyperparameters that make a worse model.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, ROLE, Launcher, wait

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "diabetes-regression"
DATA = EXAMPLE / "data" / "diabetes.csv"
REPOSITORY = "mlops-training"
BUCKET = "local-sagemaker"
METRICS = [
    {"Name": "validation:rmse", "Regex": r"validation:rmse=([0-9.eE+-]+);"},
    {"Name": "validation:r2", "Regex": r"validation:r2=([0-9.eE+-]+);"},
]
WORSE = {"n_estimators": "1", "max_depth": "1"}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    folder = tmp_path_factory.mktemp("local-images")
    config = folder / "local-images.json"
    config.write_text(
        json.dumps(
            {
                "repositories": {
                    REPOSITORY: {"example": str(EXAMPLE), "tags": {"worse": {"hyperparameters": WORSE}}}
                },
                "serve_workers": 1,
            }
        )
    )
    launcher = Launcher(["--local-images", str(config)])
    try:
        s3 = launcher.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="data/train/diabetes.csv", Body=DATA.read_bytes())
        s3.put_object(Bucket=BUCKET, Key="corrupt/train/part.csv", Body=b"1,2,3\nnot,a,number\n")
        launcher.client("ecr").create_repository(repositoryName=REPOSITORY)
        yield launcher
    finally:
        launcher.stop()


def push(emulator, tag: str) -> str:
    """PutImage in the emulator's ECR; the image URI pinned by the digest it got."""
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"digest": "sha256:" + hashlib.sha256(tag.encode()).hexdigest()},
            "layers": [],
        }
    )
    ecr = emulator.client("ecr")
    try:
        digest = ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest, imageTag=tag)["image"]["imageId"][
            "imageDigest"
        ]
    except ecr.exceptions.ImageAlreadyExistsException:  # pushed by an earlier test
        found = ecr.describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])
        digest = found["imageDetails"][0]["imageDigest"]
    return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}@{digest}"


def train(emulator, name: str, image: str, data: str = "data/train/", **extra) -> dict:
    sagemaker = emulator.client()
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File", "MetricDefinitions": METRICS},
        RoleArn=ROLE,
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": data if data.startswith("s3://") else f"s3://{BUCKET}/{data}"}},
                "ContentType": "text/csv",
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
        **extra,
    )
    # InProgress while it runs (test_state_changes_go_onto_the_default_bus sees
    # the transition); a job without data may have failed already.
    return wait(lambda: sagemaker.describe_training_job(TrainingJobName=name), "TrainingJobStatus", "InProgress")


def metric(job: dict, name: str) -> float:
    return next(m["Value"] for m in job["FinalMetricDataList"] if m["MetricName"] == name)


def archive(emulator, uri: str) -> dict[str, bytes]:
    bucket, key = uri[len("s3://") :].split("/", 1)
    body = emulator.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


@pytest.fixture(scope="module")
def trained(emulator):
    """The example trained on the whole data set, with default hyperparameters."""
    return train(emulator, "local-default", push(emulator, "v1"))


def test_a_job_trains_the_example_and_uploads_its_model_and_report(emulator, trained):
    assert trained["TrainingJobStatus"] == "Completed", trained.get("FailureReason")
    assert trained["SecondaryStatus"] == "Completed"
    statuses = [t["Status"] for t in trained["SecondaryStatusTransitions"]]
    assert statuses == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    # The metrics the job's MetricDefinitions find in the example's output.
    rmse, r2 = metric(trained, "validation:rmse"), metric(trained, "validation:r2")
    assert 30 < rmse < 80 and 0 < r2 < 1, (rmse, r2)

    model_uri = trained["ModelArtifacts"]["S3ModelArtifacts"]
    assert model_uri == f"s3://{BUCKET}/models/local-default/output/model.tar.gz"
    assert archive(emulator, model_uri), "model.tar.gz is empty"
    report = json.loads(archive(emulator, model_uri.replace("model.tar.gz", "output.tar.gz"))["evaluation.json"])
    assert report["regression_metrics"]["rmse"]["value"] == pytest.approx(rmse, rel=1e-3)


def test_the_tag_defaults_of_the_image_make_a_worse_model(emulator, trained):
    worse = train(emulator, "local-worse", push(emulator, "worse"))
    assert worse["TrainingJobStatus"] == "Completed", worse.get("FailureReason")
    assert metric(worse, "validation:rmse") > metric(trained, "validation:rmse")
    # The job's own hyperparameters win over the image's defaults.
    better = train(emulator, "local-worse-overridden", push(emulator, "worse"), HyperParameters={"n_estimators": "100", "max_depth": "3"})
    assert metric(better, "validation:rmse") < metric(worse, "validation:rmse")


def test_a_failing_program_fails_the_job_with_its_reason(emulator):
    job = train(emulator, "local-corrupt", push(emulator, "v1"), data="corrupt/train/")
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("AlgorithmError: "), job["FailureReason"]
    assert "exit code: " in job["FailureReason"]
    assert "ModelArtifacts" not in job


@pytest.mark.parametrize("data", ["nothing/here/", "s3://no-such-bucket/data/"])
def test_a_channel_without_objects_is_refused_at_creation_as_sagemaker_does(emulator, data):
    with pytest.raises(ClientError) as error:
        train(emulator, "local-no-data", push(emulator, "v1"), data=data)
    answer = error.value.response["Error"]
    assert answer["Code"] == "ValidationException"
    assert answer["Message"].startswith('No S3 objects found under S3 URL "s3://'), answer["Message"]
    assert f"({REGION})" in answer["Message"] and f'the role "{ROLE}"' in answer["Message"]
    # No job was created: the name is free.
    with pytest.raises(ClientError):
        emulator.client().describe_training_job(TrainingJobName="local-no-data")


def test_a_bad_hyperparameter_fails_the_job(emulator):
    job = train(emulator, "local-bad-hp", push(emulator, "v1"), HyperParameters={"n_estimators": "many"})
    assert job["TrainingJobStatus"] == "Failed"
    assert "n_estimators" in job["FailureReason"], job["FailureReason"]


def test_stop_training_job_kills_train_and_the_job_is_stopped(emulator):
    """StopTrainingJob (sagemaker_rules rule 22) of a job that is running here."""
    sagemaker = emulator.client()
    name = "local-stopped"
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": push(emulator, "v1"), "TrainingInputMode": "File"},
        RoleArn=ROLE,
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/data/train/"}},
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
        HyperParameters={"n_estimators": "5000", "max_depth": "32"},  # long enough to be stopped
    )
    wait(lambda: sagemaker.describe_training_job(TrainingJobName=name), "SecondaryStatus", "Starting", "Downloading")
    sagemaker.stop_training_job(TrainingJobName=name)
    job = wait(lambda: sagemaker.describe_training_job(TrainingJobName=name), "TrainingJobStatus", "InProgress", "Stopping")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]][-2:] == ["Stopping", "Stopped"]
    assert "FailureReason" not in job and "ModelArtifacts" not in job
    with pytest.raises(ClientError) as again:
        sagemaker.stop_training_job(TrainingJobName=name)
    assert again.value.response["Error"]["Message"] == (
        "The request was rejected because the training job is in status Stopped."
    )


def test_other_images_complete_at_once_as_before(emulator):
    sagemaker = emulator.client()
    sagemaker.create_training_job(
        TrainingJobName="not-local",
        AlgorithmSpecification={"TrainingImage": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/other:1", "TrainingInputMode": "File"},
        RoleArn=ROLE,
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/models/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
    )
    assert sagemaker.describe_training_job(TrainingJobName="not-local")["TrainingJobStatus"] == "Completed"


def test_state_changes_go_onto_the_default_bus(emulator):
    events, sqs = emulator.client("events"), emulator.client("sqs")
    queue = sqs.create_queue(QueueName="sagemaker-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="sagemaker", EventPattern=json.dumps({"source": ["aws.sagemaker"]}))
    events.put_targets(Rule="sagemaker", Targets=[{"Id": "q", "Arn": queue_arn}])
    train(emulator, "local-events", push(emulator, "v1"))

    seen = []
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            event = json.loads(message["Body"])
            if event["detail"].get("TrainingJobName") == "local-events":
                seen.append(event)
    assert [e["detail"]["TrainingJobStatus"] for e in seen] == ["InProgress", "Completed"]
    completed = seen[1]
    assert completed["detail-type"] == "SageMaker Training Job State Change"
    assert completed["resources"] == [completed["detail"]["TrainingJobArn"]]
    assert completed["detail"]["ModelArtifacts"]["S3ModelArtifacts"].endswith("/local-events/output/model.tar.gz")
    assert isinstance(completed["detail"]["TrainingEndTime"], int)  # epoch milliseconds, as SageMaker's events
    assert {m["MetricName"] for m in completed["detail"]["FinalMetricDataList"]} == {"validation:rmse", "validation:r2"}


def endpoint_for(emulator, name: str, model_data: str, image: str) -> None:
    sagemaker = emulator.client()
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={"Image": image, "ModelDataUrl": model_data},
        ExecutionRoleArn=ROLE,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        ],
    )


def test_an_endpoint_serves_the_trained_model_and_an_update_moves_traffic(emulator, trained):
    sagemaker, runtime = emulator.client(), emulator.client("sagemaker-runtime")
    image = push(emulator, "v1")
    endpoint_for(emulator, "model-a", trained["ModelArtifacts"]["S3ModelArtifacts"], image)
    sagemaker.create_endpoint(EndpointName="served", EndpointConfigName="model-a")
    assert sagemaker.describe_endpoint(EndpointName="served")["EndpointStatus"] == "Creating"
    described = wait(lambda: sagemaker.describe_endpoint(EndpointName="served"), "EndpointStatus", "Creating")
    assert described["EndpointStatus"] == "InService", described.get("FailureReason")

    rows = (EXAMPLE / "sample-request.csv").read_bytes()
    answer = runtime.invoke_endpoint(EndpointName="served", ContentType="text/csv", Body=rows)
    predictions = answer["Body"].read().decode().split()
    assert len(predictions) == len([r for r in rows.decode().splitlines() if r.strip()])
    assert all(25 <= float(p) <= 400 for p in predictions), predictions
    assert answer["ContentType"].startswith("text/csv")

    # The model's own 4xx is SageMaker's ModelError with the original status.
    with pytest.raises(ClientError) as error:
        runtime.invoke_endpoint(EndpointName="served", ContentType="text/csv", Body=b"not,numbers\n")
    assert error.value.response["Error"]["Code"] == "ModelError"
    assert error.value.response["OriginalStatusCode"] == 400

    # An update: a second model; traffic moves once it answers /ping.
    worse = train(emulator, "local-for-update", push(emulator, "worse"))
    endpoint_for(emulator, "model-b", worse["ModelArtifacts"]["S3ModelArtifacts"], image)
    sagemaker.update_endpoint(EndpointName="served", EndpointConfigName="model-b")
    assert sagemaker.describe_endpoint(EndpointName="served")["EndpointStatus"] == "Updating"
    described = wait(lambda: sagemaker.describe_endpoint(EndpointName="served"), "EndpointStatus", "Updating")
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "model-b"
    after = runtime.invoke_endpoint(EndpointName="served", ContentType="text/csv", Body=rows)
    assert after["Body"].read().decode().split() != predictions  # the other model answers

    sagemaker.delete_endpoint(EndpointName="served")
    with pytest.raises(ClientError) as error:
        runtime.invoke_endpoint(EndpointName="served", ContentType="text/csv", Body=rows)
    assert error.value.response["Error"]["Code"] == "ValidationError"


def test_an_endpoint_whose_model_cannot_load_fails(emulator):
    sagemaker = emulator.client()
    s3 = emulator.client("s3")
    broken = io.BytesIO()
    with tarfile.open(fileobj=broken, mode="w:gz") as tar:
        data = b"not a model"
        info = tarfile.TarInfo("model.joblib")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    s3.put_object(Bucket=BUCKET, Key="broken/model.tar.gz", Body=broken.getvalue())
    endpoint_for(emulator, "model-broken", f"s3://{BUCKET}/broken/model.tar.gz", push(emulator, "v1"))
    sagemaker.create_endpoint(EndpointName="broken", EndpointConfigName="model-broken")
    described = wait(lambda: sagemaker.describe_endpoint(EndpointName="broken"), "EndpointStatus", "Creating")
    assert described["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in described["FailureReason"]


def test_the_bench_series_of_the_example_runs_small():
    # make bench runs 200 requests (bench/example_latency.py); the same code, small.
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import example_latency

    result = example_latency.measure(requests=5)
    assert result["requests"] == 5 and result["rows_per_request"] == 3
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
