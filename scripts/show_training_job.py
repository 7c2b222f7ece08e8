"""Shows the training job the demo's function created, and checks it is the only one.

Usage: .venv/bin/python scripts/show_training_job.py

Talks to whatever AWS_ENDPOINT_URL points at (the local emulator in
scripts/demo.sh). Lists the training jobs, fails unless there is exactly one,
and prints DescribeTrainingJob's key fields plus its tags (ListTags).
"""

from __future__ import annotations

import sys

import boto3


def channel_line(s3, channel: dict) -> str:
    source = channel["DataSource"]["S3DataSource"]
    uri = source["S3Uri"]
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    objects = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount", 0)
    details = ", ".join(
        part
        for part in (
            source.get("S3DataType"),
            channel.get("ContentType"),
            channel.get("InputMode"),
            source.get("S3DataDistributionType"),
        )
        if part
    )
    return f"{channel['ChannelName']}: {uri} ({details}; {objects} object(s) there)"


def main() -> int:
    sagemaker = boto3.client("sagemaker")
    s3 = boto3.client("s3")

    names = [
        job["TrainingJobName"]
        for page in sagemaker.get_paginator("list_training_jobs").paginate()
        for job in page["TrainingJobSummaries"]
    ]
    if len(names) != 1:
        print(f"expected exactly one training job, found {len(names)}: {names}", file=sys.stderr)
        return 1

    job = sagemaker.describe_training_job(TrainingJobName=names[0])
    tags = sagemaker.list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
    algorithm = job["AlgorithmSpecification"]
    resources = job["ResourceConfig"]
    stopping = job.get("StoppingCondition", {})

    rows: list[tuple[str, list[str]]] = [
        ("name", [job["TrainingJobName"]]),
        ("status", [f"{job['TrainingJobStatus']} (the emulator completes jobs at once)"]),
        ("arn", [job["TrainingJobArn"]]),
        ("image", [algorithm["TrainingImage"]]),
        ("role", [job["RoleArn"]]),
        ("input channels", [channel_line(s3, c) for c in job.get("InputDataConfig", [])]),
        ("output path", [job["OutputDataConfig"]["S3OutputPath"]]),
        (
            "resources",
            [
                f"{resources['InstanceCount']} x {resources['InstanceType']}, "
                f"{resources['VolumeSizeInGB']} GB volume"
            ],
        ),
        ("max runtime", [f"{stopping.get('MaxRuntimeInSeconds', '-')} s"]),
        ("spot training", [str(job.get("EnableManagedSpotTraining", False))]),
        (
            "hyperparameters",
            [f"{k} = {v}" for k, v in sorted(job.get("HyperParameters", {}).items())] or ["(none)"],
        ),
        (
            "metrics",
            [f"{m['Name']}  /{m['Regex']}/" for m in algorithm.get("MetricDefinitions", [])]
            or ["(none)"],
        ),
        ("tags", [f"{t['Key']} = {t['Value']}" for t in tags] or ["(none)"]),
    ]
    width = max(len(label) for label, _ in rows)
    for label, values in rows:
        for i, value in enumerate(values):
            print(f"    {label if i == 0 else '':<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
