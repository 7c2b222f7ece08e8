"""Shared by the emulator's tests: start a launcher, make boto3 clients, requests.

Each `Launcher` is its own emulator process with fresh moto state, reached with
boto3, dummy credentials (test/test) and region us-east-1.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "launcher.py"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"
START_TIMEOUT = 60.0


class Launcher:
    def __init__(self) -> None:
        env = dict(os.environ)
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE"):
            env.pop(key, None)
        self.process = subprocess.Popen(
            [sys.executable, str(LAUNCHER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT)
        line = self.process.stdout.readline().decode() if ready else ""
        if not line.startswith("READY "):
            self.process.kill()
            self.process.wait()
            pytest.fail(f"launcher did not report READY within {START_TIMEOUT}s: {line!r}")
        self.port = int(line.split()[1])
        self.endpoint_url = f"http://127.0.0.1:{self.port}"

    def client(self, service: str = "sagemaker", region: str = REGION, validate: bool = True):
        """A boto3 client of the emulator. ``validate=False``: boto3 does not check
        the request against the API model first (the Rust SDK does not either), so
        the emulator's own checks answer."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, parameter_validation=validate),
        )

    def control(self, path: str, body: object, method: str = "POST") -> tuple[int, dict]:
        """A request to the test-control endpoint (control.py): (status, JSON answer).

        ``body``: bytes as they are, None for no body, anything else as JSON.
        """
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.endpoint_url}/_emulator/{path}",
            data=body,
            headers={"Content-Type": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


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
