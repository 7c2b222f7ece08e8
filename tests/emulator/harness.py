"""Shared by the emulator's tests: start a launcher, make boto3 clients, requests.

Each `Launcher` is its own emulator process with fresh moto state, reached with
boto3, dummy credentials (test/test) and region us-east-1.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from emulator_process import REGION, EmulatorError, EmulatorProcess

HERE = Path(__file__).resolve().parent
ACCOUNT = "123456789012"  # moto's default account
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"


class Launcher(EmulatorProcess):
    """An emulator for a test: a start failure fails the test."""

    def __init__(self, arguments: list[str] | None = None) -> None:
        try:
            super().__init__(arguments)
        except EmulatorError as error:
            pytest.fail(str(error))

    def client(self, service: str = "sagemaker", region: str = REGION, validate: bool = True, retries: dict | None = None):
        """A boto3 client of the emulator. ``validate=False``: boto3 does not check
        the request against the API model first (the Rust SDK does not either), so
        the emulator's own checks answer. ``retries``: botocore's retry options
        (default: one retry)."""
        return super().client(service, region, retries=retries or {"max_attempts": 1}, parameter_validation=validate)

    def control(self, path: str, body: object, method: str = "POST") -> tuple[int, dict]:
        """A request to the test-control endpoint (control.py): (status, JSON answer).

        ``body``: bytes as they are, None for no body, anything else as JSON.
        """
        return self.request(method, f"/_emulator/{path}", body)


def training_job_request(name: str) -> dict:
    return dict(
        TrainingJobName=name,
        AlgorithmSpecification={
            "TrainingImage": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/trainer:1.0",
            "TrainingInputMode": "File",
            "MetricDefinitions": [
                {"Name": "validation:rmse", "Regex": r"validation-rmse=(\S+)"},
                {"Name": "train:loss", "Regex": r"train-loss=(\S+)"},
            ],
        },
        RoleArn=ROLE,
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": "s3://datasets/churn/train/",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "text/csv",
                "InputMode": "File",
                "CompressionType": "None",
            },
            {
                "ChannelName": "validation",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": "s3://datasets/churn/validation/",
                    }
                },
                "ContentType": "application/x-parquet",
                "InputMode": "Pipe",
            },
        ],
        OutputDataConfig={
            "S3OutputPath": "s3://artifacts/churn/",
            "KmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/output-key",
        },
        ResourceConfig={
            "InstanceType": "ml.m5.xlarge",
            "InstanceCount": 2,
            "VolumeSizeInGB": 50,
            "VolumeKmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/volume-key",
        },
        StoppingCondition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
        HyperParameters={"eta": "0.2", "max_depth": "5", "num_round": "100"},
        EnableManagedSpotTraining=True,
        CheckpointConfig={"S3Uri": "s3://artifacts/checkpoints/", "LocalPath": "/opt/ml/checkpoints"},
        VpcConfig={"SecurityGroupIds": ["sg-0123"], "Subnets": ["subnet-a", "subnet-b"]},
        Tags=[
            {"Key": "project", "Value": "churn"},
            {"Key": "dataset-sha256", "Value": "ab" * 32},
        ],
    )


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = excinfo.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


def wait(describe, key: str, *busy: str, timeout: float = 90.0) -> dict:
    """Calls ``describe`` until its answer's ``key`` is none of ``busy``
    (e.g. a job's ``TrainingJobStatus`` no longer ``InProgress``); that answer.
    Fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = describe()
        if answer[key] not in busy:
            return answer
        assert time.monotonic() < deadline, f"still {answer[key]} after {timeout} s"
        time.sleep(0.1)


def approved_one_per_page(sagemaker, group: str, pages: int = 5) -> list[dict]:
    """ListModelPackages of ``group``'s Approved versions, newest first, one
    per page (``MaxResults`` 1, followed by ``NextToken``, at most ``pages``
    pages): each page's one summary."""
    request = dict(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=1,
    )
    summaries, token = [], None
    for _ in range(pages):
        page = sagemaker.list_model_packages(**request, **({"NextToken": token} if token else {}))
        (summary,) = page["ModelPackageSummaryList"]
        summaries.append(summary)
        token = page.get("NextToken")
        if not token:
            break
    return summaries
