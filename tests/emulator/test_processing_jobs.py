"""Processing jobs in the emulator: sagemaker_rules' rules 24-25, the test
control, and local_processing.py running the example's `preprocess` for real.

One emulator for the module, with the local-images file mapping the
repository ``mlops-training`` to examples/diabetes-regression.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, ROLE, Launcher, wait

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "diabetes-regression"
DATA = EXAMPLE / "data" / "diabetes.csv"
REPOSITORY = "mlops-training"
SLOW_REPOSITORY = "slow-processing"  # a program that runs until it is stopped
BUCKET = "local-processing"
LOCAL_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}:v1"
OTHER_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/someone-elses:1.0"
SLOW_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{SLOW_REPOSITORY}:v1"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    folder = tmp_path_factory.mktemp("local-images")
    slow = folder / "slow"
    slow.mkdir()
    for program in ("train", "serve"):
        (slow / program).write_text("raise SystemExit(1)\n")
    (slow / "sleeper").write_text("import time\ntime.sleep(120)\n")
    config = folder / "local-images.json"
    config.write_text(
        json.dumps({"repositories": {REPOSITORY: {"example": str(EXAMPLE)}, SLOW_REPOSITORY: {"example": str(slow)}}})
    )
    launcher = Launcher(["--local-images", str(config)])
    try:
        s3 = launcher.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="raw/2026/11/diabetes.csv", Body=DATA.read_bytes())
        s3.put_object(Bucket=BUCKET, Key="corrupt/part.csv", Body=b"1,2,3\n")
        events, sqs = launcher.client("events"), launcher.client("sqs")
        queue = sqs.create_queue(QueueName="processing-events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(
            Name="processing",
            EventPattern=json.dumps({"source": ["aws.sagemaker"], "detail-type": ["SageMaker Processing Job State Change"]}),
        )
        events.put_targets(Rule="processing", Targets=[{"Id": "q", "Arn": arn}])
        launcher.events_queue = queue
        yield launcher
    finally:
        launcher.stop()


def request(name: str, image: str = LOCAL_IMAGE, raw: str = "raw/", **changes) -> dict:
    sent = dict(
        ProcessingJobName=name,
        AppSpecification={"ImageUri": image, "ContainerEntrypoint": ["preprocess"], "ContainerArguments": ["--test-fraction", "0.2"]},
        ProcessingInputs=[
            {
                "InputName": "raw",
                "S3Input": {
                    "S3Uri": f"s3://{BUCKET}/{raw}",
                    "LocalPath": "/opt/ml/processing/input/raw",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": output,
                    "S3Output": {
                        "S3Uri": f"s3://{BUCKET}/processed/{name}/{output}",
                        "LocalPath": f"/opt/ml/processing/output/{output}",
                        "S3UploadMode": "EndOfJob",
                    },
                }
                for output in ("train", "validation", "test")
            ]
        },
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
        Environment={"PIPELINE": "mlops"},
        RoleArn=ROLE,
        Tags=[{"Key": "mlops:pipeline", "Value": "mlops"}],
    )
    return {**sent, **changes}


def finished(emulator, name: str) -> dict:
    sagemaker = emulator.client()
    return wait(lambda: sagemaker.describe_processing_job(ProcessingJobName=name), "ProcessingJobStatus", "InProgress")


def events_of(emulator, name: str, count: int, timeout: float = 30.0) -> list[dict]:
    """The first `count` state-change events of the job, in order."""
    sqs, found = emulator.client("sqs"), []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=emulator.events_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            event = json.loads(message["Body"])
            if event["detail"]["ProcessingJobName"] == name:
                found.append(event)
            else:  # another test's: leave it for that test
                sqs.change_message_visibility(QueueUrl=emulator.events_queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
                continue
            sqs.delete_message(QueueUrl=emulator.events_queue, ReceiptHandle=message["ReceiptHandle"])
    return found


def lines(emulator, key: str) -> list[str]:
    return emulator.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()


# --- rules 24-25, for an image that does not run locally ----------------------------


def test_a_new_job_is_in_progress_with_what_was_sent(emulator):
    sagemaker = emulator.client()
    sent = request("kept-as-sent", image=OTHER_IMAGE)
    arn = sagemaker.create_processing_job(**sent)["ProcessingJobArn"]
    assert arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/kept-as-sent"
    job = sagemaker.describe_processing_job(ProcessingJobName="kept-as-sent")
    assert job["ProcessingJobStatus"] == "InProgress"
    assert "ProcessingStartTime" not in job and "ProcessingEndTime" not in job and "ExitMessage" not in job
    for key in ("AppSpecification", "ProcessingInputs", "ProcessingOutputConfig", "ProcessingResources", "StoppingCondition", "Environment", "RoleArn"):
        assert job[key] == sent[key], key
    tags = sagemaker.list_tags(ResourceArn=arn)["Tags"]
    assert tags == sent["Tags"]


def test_a_name_is_unique(emulator):
    sagemaker = emulator.client()
    sagemaker.create_processing_job(**request("taken", image=OTHER_IMAGE))
    with pytest.raises(ClientError) as raised:
        sagemaker.create_processing_job(**request("taken", image=OTHER_IMAGE, Environment={"OTHER": "1"}))
    error = raised.value.response
    assert error["Error"]["Code"] == "ResourceInUse"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert f"a processing job with this name already exists (arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/taken)" in error["Error"]["Message"]
    assert sagemaker.describe_processing_job(ProcessingJobName="taken")["Environment"] == {"PIPELINE": "mlops"}


def test_a_request_against_the_api_model_is_refused_whole(emulator):
    sagemaker = emulator.client(validate=False)  # as the Rust SDK: no client-side check
    sent = request("invalid", image=OTHER_IMAGE)
    sent["StoppingCondition"] = {"MaxRuntimeInSeconds": 0}
    sent["AppSpecification"]["ContainerEntrypoint"] = ["x"] * 101
    del sent["RoleArn"]
    with pytest.raises(ClientError) as raised:
        sagemaker.create_processing_job(**sent)
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("3 validation errors detected: ")
    for part in (
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
        "at 'stoppingCondition.maxRuntimeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 1",
        "at 'appSpecification.containerEntrypoint' failed to satisfy constraint: Member must have length less than or equal to 100",
    ):
        assert part in error["Message"], error["Message"]
    with pytest.raises(ClientError):
        sagemaker.describe_processing_job(ProcessingJobName="invalid")


def test_the_control_sets_the_outcome(emulator):
    sagemaker = emulator.client()
    sagemaker.create_processing_job(**request("controlled", image=OTHER_IMAGE))
    status, answer = emulator.control(
        "sagemaker/processing-jobs/controlled",
        {"ProcessingJobStatus": "Failed", "FailureReason": "AlgorithmError: boom", "ExitMessage": "raw data: x.csv line 1"},
    )
    assert status == 200 and answer["ProcessingJobStatus"] == "Failed"
    job = sagemaker.describe_processing_job(ProcessingJobName="controlled")
    assert (job["ProcessingJobStatus"], job["FailureReason"], job["ExitMessage"]) == (
        "Failed", "AlgorithmError: boom", "raw data: x.csv line 1",
    )
    assert "ProcessingEndTime" in job
    status, answer = emulator.control("sagemaker/processing-jobs/controlled", {"ProcessingJobStatus": "Completed"})
    job = sagemaker.describe_processing_job(ProcessingJobName="controlled")
    assert job["ProcessingJobStatus"] == "Completed" and "FailureReason" not in job
    assert emulator.control("sagemaker/processing-jobs/no-such-job", {"ProcessingJobStatus": "Completed"})[0] == 404
    status, answer = emulator.control("sagemaker/processing-jobs/controlled", {"ProcessingJobStatus": "Done"})
    assert status == 400 and "ProcessingJobStatus" in answer["Message"]
    assert emulator.control("sagemaker/processing-jobs/controlled", {})[0] == 400


# --- local_processing.py: the example's preprocess, for real ------------------------


def test_a_local_job_runs_preprocess_and_uploads_the_sets(emulator):
    emulator.client().create_processing_job(**request("local-split"))
    job = finished(emulator, "local-split")
    assert job["ProcessingJobStatus"] == "Completed", (job.get("FailureReason"), job.get("ExitMessage"))
    summary = json.loads(job["ExitMessage"])
    counts = {name: len(lines(emulator, f"processed/local-split/{name}/{name}.csv")) for name in ("train", "validation", "test")}
    assert summary["rows"] == counts and sum(counts.values()) == 442
    assert counts["test"] > counts["validation"]  # the job's ContainerArguments: --test-fraction 0.2
    assert job["ProcessingStartTime"] <= job["ProcessingEndTime"]
    # The state changes, as DescribeProcessingJob answers them, without tags.
    changes = events_of(emulator, "local-split", 2)
    assert [e["detail"]["ProcessingJobStatus"] for e in changes] == ["InProgress", "Completed"]
    assert all(e["source"] == "aws.sagemaker" and e["resources"] == [job["ProcessingJobArn"]] for e in changes)
    assert changes[1]["detail"]["ExitMessage"] == job["ExitMessage"] and "Tags" not in changes[1]["detail"]
    assert changes[1]["detail"]["ProcessingOutputConfig"] == job["ProcessingOutputConfig"]


def test_a_corrupt_raw_file_fails_the_job_with_its_reason(emulator):
    emulator.client().create_processing_job(**request("local-corrupt", raw="corrupt/"))
    job = finished(emulator, "local-corrupt")
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"] == "AlgorithmError: See job logs for more information"
    assert job["ExitMessage"].startswith("raw data: part.csv line 1 has 3 columns; expected 11")
    listed = emulator.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="processed/local-corrupt/")
    assert listed.get("KeyCount", 0) == 0  # nothing uploaded
    assert [e["detail"]["ProcessingJobStatus"] for e in events_of(emulator, "local-corrupt", 2)] == ["InProgress", "Failed"]


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        ("local-no-program", {"AppSpecification": {"ImageUri": LOCAL_IMAGE, "ContainerEntrypoint": ["featurize"]}}, 'exec: "featurize": executable file not found'),
        ("local-bad-path", {"local_path": "/tmp/raw"}, "LocalPath /tmp/raw must be under /opt/ml/processing/"),
    ],
)
def test_what_cannot_run_fails_as_a_client_error(emulator, name, change, reason):
    sent = request(name)
    if "local_path" in change:
        sent["ProcessingInputs"][0]["S3Input"]["LocalPath"] = change["local_path"]
    else:
        sent.update(change)
    emulator.client().create_processing_job(**sent)
    job = finished(emulator, name)
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: ") and reason in job["FailureReason"]


# --- rule 26: ListProcessingJobs filters, sorts, then pages ------------------------


def test_listing_filters_then_sorts_then_pages(emulator):
    sagemaker = emulator.client()
    for name in ("list-b", "list-a", "list-c"):  # created in this order
        sagemaker.create_processing_job(**request(name, image=OTHER_IMAGE))
        time.sleep(0.05)
    emulator.control("sagemaker/processing-jobs/list-b", {"ProcessingJobStatus": "Completed", "ExitMessage": '{"rows": 1}'})
    emulator.control("sagemaker/processing-jobs/list-a", {"ProcessingJobStatus": "Completed"})
    emulator.control("sagemaker/processing-jobs/list-c", {"ProcessingJobStatus": "Failed", "FailureReason": "AlgorithmError: x"})

    def listed(**query) -> tuple[list[str], dict]:
        answer = sagemaker.list_processing_jobs(NameContains="list-", **query)
        return [s["ProcessingJobName"] for s in answer["ProcessingJobSummaries"]], answer

    # The newest completed one, in one call: moto cut the page before filtering.
    names, answer = listed(StatusEquals="Completed", SortBy="CreationTime", SortOrder="Descending", MaxResults=1)
    assert names == ["list-a"] and "NextToken" in answer
    names, answer = listed(StatusEquals="Completed", SortBy="CreationTime", SortOrder="Descending", MaxResults=1, NextToken=answer["NextToken"])
    assert names == ["list-b"] and "NextToken" not in answer
    assert answer["ProcessingJobSummaries"][0]["ExitMessage"] == '{"rows": 1}'
    # By name, two per page; the default order is by creation time, ascending.
    names, answer = listed(SortBy="Name", MaxResults=2)
    assert names == ["list-a", "list-b"]
    assert listed(SortBy="Name", MaxResults=2, NextToken=answer["NextToken"])[0] == ["list-c"]
    assert listed()[0] == ["list-b", "list-a", "list-c"]
    failed = listed(StatusEquals="Failed")[1]["ProcessingJobSummaries"][0]
    assert failed["FailureReason"] == "AlgorithmError: x" and "ExitMessage" not in failed
    with pytest.raises(ClientError) as raised:
        emulator.client(validate=False).list_processing_jobs(SortBy="Size")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "Value 'Size' at 'sortBy' failed to satisfy constraint" in raised.value.response["Error"]["Message"]


def test_listing_refuses_bad_bounds_and_filters_by_time(emulator):
    sagemaker = emulator.client(validate=False)
    for query in ({"MaxResults": 0}, {"MaxResults": 101}, {"NextToken": "abc"}):
        with pytest.raises(ClientError) as raised:
            sagemaker.list_processing_jobs(**query)
        assert raised.value.response["Error"]["Code"] == "ValidationException", query
    sagemaker.create_processing_job(**request("list-time", image=OTHER_IMAGE))
    hour_ago = time.time() - 3600
    after = sagemaker.list_processing_jobs(NameContains="list-time", CreationTimeAfter=hour_ago)
    before = sagemaker.list_processing_jobs(NameContains="list-time", CreationTimeBefore=hour_ago)
    assert [j["ProcessingJobName"] for j in after["ProcessingJobSummaries"]] == ["list-time"]
    assert before["ProcessingJobSummaries"] == []


# --- rule 27: StopProcessingJob ------------------------------------------------------


def test_stopping_a_job(emulator):
    sagemaker = emulator.client()
    sagemaker.create_processing_job(**request("to-stop", image=OTHER_IMAGE))
    sagemaker.stop_processing_job(ProcessingJobName="to-stop")
    job = sagemaker.describe_processing_job(ProcessingJobName="to-stop")
    assert job["ProcessingJobStatus"] == "Stopped" and "ProcessingEndTime" in job
    for name, said in (("to-stop", "in status Stopped"), ("never-made", "Could not find processing job")):
        with pytest.raises(ClientError) as raised:
            sagemaker.stop_processing_job(ProcessingJobName=name)
        assert raised.value.response["Error"]["Code"] == "ValidationException"
        assert said in raised.value.response["Error"]["Message"]


def test_stopping_a_local_job_kills_its_program(emulator):
    sagemaker = emulator.client()
    sent = request("local-stopped", image=SLOW_IMAGE)
    sent["AppSpecification"] = {"ImageUri": SLOW_IMAGE, "ContainerEntrypoint": ["python3", "/opt/program/sleeper"]}
    sagemaker.create_processing_job(**sent)
    time.sleep(1)  # the program runs
    sagemaker.stop_processing_job(ProcessingJobName="local-stopped")
    job = wait(lambda: sagemaker.describe_processing_job(ProcessingJobName="local-stopped"), "ProcessingJobStatus", "InProgress", "Stopping", timeout=30)
    assert job["ProcessingJobStatus"] == "Stopped" and "FailureReason" not in job
    listed = emulator.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="processed/local-stopped/")
    assert listed.get("KeyCount", 0) == 0
    assert [e["detail"]["ProcessingJobStatus"] for e in events_of(emulator, "local-stopped", 2)] == ["InProgress", "Stopped"]
