"""The evaluate → register flow the Rust integration tests walk, end to end in
boto3: if a moto upgrade breaks a step, this shows which.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, error_of, training_job_request

PIPELINE = "mlops--churn"
JOB = "mlops--churn-train-0123abcd"
GROUP = "mlops--churn-models"


def test_training_to_registered_model(shared_emulator):
    sagemaker = shared_emulator.client()
    s3 = shared_emulator.client("s3")
    events = shared_emulator.client("events")
    sqs = shared_emulator.client("sqs")

    # trigger: the training job. The emulator completes it at once.
    request = training_job_request(JOB)
    request["OutputDataConfig"] = {"S3OutputPath": "s3://mlops-artifacts/training/"}
    sagemaker.create_training_job(**request)
    status, _ = shared_emulator.control(
        f"sagemaker/training-jobs/{JOB}",
        {"FinalMetricDataList": [{"MetricName": "validation:auc", "Value": 0.91}]},
    )
    assert status == 200

    # The test writes what the job would have written.
    s3.create_bucket(Bucket="mlops-artifacts")
    report_key = f"training/{JOB}/output/evaluation.json"
    s3.put_object(Bucket="mlops-artifacts", Key=report_key, Body=b'{"auc": 0.91}')

    # The published event is read back through a rule with an SQS target.
    events.create_event_bus(Name="mlops-bus")
    queue_url = sqs.create_queue(QueueName="evaluations")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="passed",
        EventBusName="mlops-bus",
        EventPattern=json.dumps(
            {
                "source": ["mlops.pipeline"],
                "detail-type": ["Model Evaluation Completed"],
                "detail": {"passed": [True]},
            }
        ),
    )
    events.put_targets(
        Rule="passed", EventBusName="mlops-bus", Targets=[{"Id": "q", "Arn": queue_arn}]
    )

    # evaluate: DescribeTrainingJob + S3, then PutEvents.
    job = sagemaker.describe_training_job(TrainingJobName=JOB)
    assert job["TrainingJobStatus"] == "Completed"
    model_data = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert model_data == f"s3://mlops-artifacts/training/{JOB}/output/model.tar.gz"
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    report = json.loads(s3.get_object(Bucket="mlops-artifacts", Key=report_key)["Body"].read())
    detail = {
        "pipeline": PIPELINE,
        "training_job_name": JOB,
        "training_job_arn": job["TrainingJobArn"],
        "training_job_status": job["TrainingJobStatus"],
        "model_artifacts": model_data,
        "metrics": {**metrics, **report},
        "passed": True,
    }
    put = events.put_events(
        Entries=[
            {
                "EventBusName": "mlops-bus",
                "Source": "mlops.pipeline",
                "DetailType": "Model Evaluation Completed",
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert put["FailedEntryCount"] == 0

    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    event = json.loads(messages[0]["Body"])
    assert event["id"] == put["Entries"][0]["EventId"]
    assert event["account"] == ACCOUNT and event["detail"] == detail

    # register: DescribeModelPackageGroup, CreateModelPackageGroup, CreateModelPackage
    # with a token derived from the job; a repeated event registers nothing new.
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_model_package_group(ModelPackageGroupName=GROUP)
    assert error_of(excinfo)[:2] == (400, "ValidationException")
    assert "does not exist" in error_of(excinfo)[2]
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    assert "already exists" in error_of(excinfo)[2]

    package = dict(
        ModelPackageGroupName=GROUP,
        InferenceSpecification={
            "Containers": [
                {
                    "Image": request["AlgorithmSpecification"]["TrainingImage"],
                    "ModelDataUrl": model_data,
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelMetrics={
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": f"s3://mlops-artifacts/{report_key}",
                }
            }
        },
        CustomerMetadataProperties={"training_job": JOB},
        ModelApprovalStatus="PendingManualApproval",
        ClientToken="0123abcd-" + "e" * 27,
    )
    first = sagemaker.create_model_package(**package)["ModelPackageArn"]
    again = sagemaker.create_model_package(**package)["ModelPackageArn"]
    assert first == again == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/1"

    summaries = sagemaker.list_model_packages(
        ModelPackageGroupName=GROUP, SortBy="CreationTime", SortOrder="Descending"
    )["ModelPackageSummaryList"]
    assert [s["ModelPackageArn"] for s in summaries] == [first]
    described = sagemaker.describe_model_package(ModelPackageName=first)
    assert described["InferenceSpecification"] == package["InferenceSpecification"]
    assert described["ModelMetrics"] == package["ModelMetrics"]
    assert described["CustomerMetadataProperties"] == {"training_job": JOB}
