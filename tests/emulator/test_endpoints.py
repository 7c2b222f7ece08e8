"""Models, endpoint configurations and endpoints as the deploy stage uses them:
rules 10-14 of sagemaker_rules (UpdateEndpoint, SageMaker's "Could not find"
wording, what DescribeModel/DescribeEndpointConfig/DescribeEndpoint leave out,
instance types), the endpoint test control (control.py), and the stock moto
behaviour the Rust tests rely on: ListModelPackages pages and Application Auto
Scaling for a variant.

One emulator for the module (`shared_emulator`); each test uses names of its own.
"""

from __future__ import annotations

import copy
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, ROLE, approved_one_per_page, error_of

IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn-inference:1"
KMS = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/endpoint-key"
# Every EndpointStatus but InService and Failed: UpdateEndpoint calls them in progress.
IN_PROGRESS = [
    "Creating",
    "Updating",
    "SystemUpdating",
    "RollingBack",
    "OutOfService",
    "Deleting",
    "UpdateRollbackFailed",
]

CANARY = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY",
            "WaitIntervalInSeconds": 300,
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
        },
        "TerminationWaitInSeconds": 120,
        "MaximumExecutionTimeoutInSeconds": 1800,
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "mlops--5xx"}, {"AlarmName": "mlops--latency"}]},
}
LINEAR = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "LINEAR",
            "WaitIntervalInSeconds": 60,
            "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 1},
        },
        "TerminationWaitInSeconds": 0,
    }
}
ALL_AT_ONCE = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
    }
}


@pytest.fixture(scope="module")
def sagemaker(shared_emulator):
    return shared_emulator.client()


def arn(kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name}"


def model_package(sagemaker, group: str, status: str = "Approved") -> str:
    """A new version in ``group`` (created if needed); its ARN."""
    try:
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    except ClientError:
        pass  # rule 6: it already exists
    return sagemaker.create_model_package(
        ModelPackageGroupName=group,
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://artifacts/{group}/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus=status,
    )["ModelPackageArn"]


def create_model(sagemaker, name: str, package: str | None = None, **extra) -> str:
    package = package or arn("model-package", "churn-models/1")
    return sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        Containers=[{"ModelPackageName": package}],
        **extra,
    )["ModelArn"]


def create_config(sagemaker, name: str, model: str, serverless: bool = False, **extra) -> str:
    variant = {"VariantName": "AllTraffic", "ModelName": model}
    if serverless:
        variant["ServerlessConfig"] = {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    else:
        variant.update(InstanceType="ml.m5.large", InitialInstanceCount=1)
    return sagemaker.create_endpoint_config(
        EndpointConfigName=name, ProductionVariants=[variant], **extra
    )["EndpointConfigArn"]


def endpoint_on(sagemaker, name: str, *configs: str, serverless: bool = False) -> None:
    """A model, the endpoint configurations ``configs`` and endpoint ``name`` on the first."""
    create_model(sagemaker, f"{name}-model")
    for config in configs:
        create_config(sagemaker, config, f"{name}-model", serverless=serverless)
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=configs[0])


def control(emulator, name: str, body: object = None, method: str = "GET") -> tuple[int, dict]:
    return emulator.control(f"sagemaker/endpoints/{name}", body, method=method)


def endpoint_events(emulator, name: str, region: str = REGION):
    """Routes the endpoint's "SageMaker Endpoint State Change" events on the
    region's default bus to a queue of their own; a function that answers the
    next ``count`` of them in arrival order (fewer if ``timeout`` runs out)."""
    events, sqs = emulator.client("events", region=region), emulator.client("sqs", region=region)
    queue = sqs.create_queue(QueueName=f"{name}-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Endpoint State Change"],
        "detail": {"EndpointName": [name]},
    }
    events.put_rule(Name=f"{name}-events", EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"{name}-events", Targets=[{"Id": "queue", "Arn": queue_arn}])

    def receive(count: int, timeout: float = 10.0) -> list[dict]:
        seen: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(seen) < count and time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            for message in messages:
                seen.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            if not messages:
                time.sleep(0.05)
        return seen

    return receive


def statuses(events: list[dict]) -> list[str]:
    return [event["detail"]["EndpointStatus"] for event in events]


# --- CreateModel from a model package (rule 12) -------------------------------


def test_model_from_model_package_is_echoed(sagemaker):
    package = model_package(sagemaker, "echo-models")
    vpc = {"SecurityGroupIds": ["sg-0123"], "Subnets": ["subnet-a", "subnet-b"]}
    tags = [{"Key": "mlops:model-package-arn", "Value": package}, {"Key": "mlops:pipeline", "Value": "mlops"}]
    model_arn = create_model(
        sagemaker, "echo-model", package, VpcConfig=vpc, EnableNetworkIsolation=True, Tags=tags
    )
    assert model_arn == arn("model", "echo-model")

    described = sagemaker.describe_model(ModelName="echo-model")
    assert described["Containers"] == [{"ModelPackageName": package}]
    assert "PrimaryContainer" not in described  # stock moto answers {}
    assert described["ExecutionRoleArn"] == ROLE
    assert described["VpcConfig"] == vpc
    assert described["EnableNetworkIsolation"] is True  # stock moto: always false
    assert described["ModelArn"] == model_arn
    assert sagemaker.list_tags(ResourceArn=model_arn)["Tags"] == tags


def test_model_with_primary_container_and_defaults(sagemaker):
    package = arn("model-package", "churn-models/7")
    sagemaker.create_model(
        ModelName="primary-model", ExecutionRoleArn=ROLE, PrimaryContainer={"ModelPackageName": package}
    )
    described = sagemaker.describe_model(ModelName="primary-model")
    assert described["PrimaryContainer"] == {"ModelPackageName": package}
    assert "Containers" not in described and "VpcConfig" not in described
    assert described["EnableNetworkIsolation"] is False


def test_existing_model_is_refused_and_kept(sagemaker):
    model_arn = create_model(sagemaker, "again-model", EnableNetworkIsolation=True)
    with pytest.raises(ClientError) as excinfo:
        create_model(sagemaker, "again-model", arn("model-package", "churn-models/9"))
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f'Cannot create already existing model "{model_arn}".',
    )
    described = sagemaker.describe_model(ModelName="again-model")
    assert described["Containers"] == [{"ModelPackageName": arn("model-package", "churn-models/1")}]
    assert described["EnableNetworkIsolation"] is True


# --- endpoint configurations (rules 13-14) ------------------------------------


def test_endpoint_config_with_instances_capture_and_kms_is_echoed(sagemaker):
    create_model(sagemaker, "epc-model")
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 25,
        "DestinationS3Uri": "s3://capture/churn/",
        "KmsKeyId": KMS,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "epc-model",
        "InstanceType": "ml.g5.xlarge",  # rule 14: not in stock moto's list
        "InitialInstanceCount": 2,
    }
    tags = [{"Key": "mlops:pipeline", "Value": "mlops"}]
    config_arn = sagemaker.create_endpoint_config(
        EndpointConfigName="epc-instances",
        ProductionVariants=[variant],
        DataCaptureConfig=capture,
        KmsKeyId=KMS,
        Tags=tags,
    )["EndpointConfigArn"]
    assert config_arn == arn("endpoint-config", "epc-instances")

    described = sagemaker.describe_endpoint_config(EndpointConfigName="epc-instances")
    assert described["ProductionVariants"] == [variant]
    assert described["DataCaptureConfig"] == capture
    assert described["KmsKeyId"] == KMS
    assert sagemaker.list_tags(ResourceArn=config_arn)["Tags"] == tags

    with pytest.raises(ClientError) as excinfo:
        create_config(sagemaker, "epc-instances", "epc-model")
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f'Cannot create already existing endpoint configuration "{config_arn}".',
    )


def test_serverless_endpoint_config_is_echoed_without_empty_capture(sagemaker):
    create_model(sagemaker, "sls-model")
    create_config(sagemaker, "epc-serverless", "sls-model", serverless=True)
    described = sagemaker.describe_endpoint_config(EndpointConfigName="epc-serverless")
    assert described["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": "sls-model",
            "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
        }
    ]
    assert "DataCaptureConfig" not in described  # stock moto answers {}
    assert "KmsKeyId" not in described


def test_instance_type_outside_the_api_model_is_refused(sagemaker):
    create_model(sagemaker, "type-model")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_endpoint_config(
            EndpointConfigName="epc-bad-type",
            ProductionVariants=[
                {"VariantName": "AllTraffic", "ModelName": "type-model", "InstanceType": "ml.m5.huge", "InitialInstanceCount": 1}
            ],
        )
    status, code, message = error_of(excinfo)
    assert (status, code) == (400, "ValidationException")
    assert message.startswith("Value 'ml.m5.huge' at 'instanceType' failed to satisfy constraint")


# --- "Could not find ..." (rule 11) --------------------------------------------


def test_missing_resources_in_sagemakers_words(sagemaker):
    cases = [
        (lambda: sagemaker.describe_endpoint(EndpointName="nowhere"), "endpoint", "endpoint", "nowhere"),
        (lambda: sagemaker.delete_endpoint(EndpointName="nowhere"), "endpoint", "endpoint", "nowhere"),
        (
            lambda: sagemaker.describe_endpoint_config(EndpointConfigName="no-config"),
            "endpoint configuration",
            "endpoint-config",
            "no-config",
        ),
        (
            lambda: sagemaker.create_endpoint(EndpointName="orphan", EndpointConfigName="no-config"),
            "endpoint configuration",
            "endpoint-config",
            "no-config",
        ),
        (
            lambda: create_config(sagemaker, "epc-orphan", "no-model"),
            "model",
            "model",
            "no-model",
        ),
        (lambda: sagemaker.describe_model(ModelName="no-model"), "model", "model", "no-model"),
    ]
    for call, kind, arn_kind, name in cases:
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == (
            400,
            "ValidationException",
            f'Could not find {kind} "{arn(arn_kind, name)}".',
        )


# --- CreateEndpoint, DescribeEndpoint, DeleteEndpoint --------------------------


def test_new_endpoint_is_in_service_at_once(shared_emulator, sagemaker):
    create_model(sagemaker, "fresh-model")
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": "s3://capture/fresh/",
        "KmsKeyId": KMS,
        "CaptureOptions": [{"CaptureMode": "Input"}],
    }
    create_config(sagemaker, "fresh-config", "fresh-model", DataCaptureConfig=capture)
    endpoint_arn = sagemaker.create_endpoint(
        EndpointName="fresh", EndpointConfigName="fresh-config", Tags=[{"Key": "mlops:pipeline", "Value": "mlops"}]
    )["EndpointArn"]
    assert endpoint_arn == arn("endpoint", "fresh")

    described = sagemaker.describe_endpoint(EndpointName="fresh")
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == "fresh-config"
    assert described["ProductionVariants"] == [
        {"VariantName": "AllTraffic", "CurrentInstanceCount": 1, "DesiredInstanceCount": 1}
    ]
    assert described["DataCaptureConfig"] == {  # rule 13: a DataCaptureConfigSummary
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 100,
        "DestinationS3Uri": "s3://capture/fresh/",
        "KmsKeyId": KMS,
    }
    assert "LastDeploymentConfig" not in described and "FailureReason" not in described
    assert sagemaker.list_tags(ResourceArn=endpoint_arn)["Tags"] == [{"Key": "mlops:pipeline", "Value": "mlops"}]

    assert control(shared_emulator, "fresh") == (
        200,
        {
            "EndpointName": "fresh",
            "EndpointArn": endpoint_arn,
            "EndpointStatus": "InService",
            "EndpointConfigName": "fresh-config",
            "LastDeploymentConfig": None,
            "UpdateCount": 0,
        },
    )

    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_endpoint(EndpointName="fresh", EndpointConfigName="fresh-config")
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f'Cannot create already existing endpoint "{endpoint_arn}".',
    )


def test_serverless_endpoint_has_no_capture_and_serverless_variant(sagemaker):
    endpoint_on(sagemaker, "nocap", "nocap-a", serverless=True)
    described = sagemaker.describe_endpoint(EndpointName="nocap")
    assert described["ProductionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "CurrentServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            "DesiredServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
        }
    ]
    assert "DataCaptureConfig" not in described  # stock moto answers {}


def test_delete_endpoint_then_create_it_afresh(shared_emulator, sagemaker):
    endpoint_on(sagemaker, "reborn", "reborn-a", "reborn-b")
    sagemaker.update_endpoint(EndpointName="reborn", EndpointConfigName="reborn-b", DeploymentConfig=ALL_AT_ONCE)
    control(shared_emulator, "reborn", {"EndpointStatus": "Failed", "FailureReason": "boom"}, "POST")

    sagemaker.delete_endpoint(EndpointName="reborn")  # whatever its status (see README)
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_endpoint(EndpointName="reborn")
    assert error_of(excinfo)[2] == f'Could not find endpoint "{arn("endpoint", "reborn")}".'
    assert control(shared_emulator, "reborn")[0] == 404

    sagemaker.create_endpoint(EndpointName="reborn", EndpointConfigName="reborn-a")
    status, state = control(shared_emulator, "reborn")
    assert status == 200
    assert (state["EndpointStatus"], state["EndpointConfigName"], state["UpdateCount"]) == (
        "InService",
        "reborn-a",
        0,
    )
    assert state["LastDeploymentConfig"] is None and "FailureReason" not in state


# --- UpdateEndpoint (rule 10) ----------------------------------------------------


def test_update_endpoint_switches_config_and_records_deployment(shared_emulator, sagemaker):
    endpoint_on(sagemaker, "blue", "blue-a")
    create_model(sagemaker, "blue-model-b")
    create_config(sagemaker, "blue-b", "blue-model-b", DataCaptureConfig={
        "EnableCapture": True,
        "InitialSamplingPercentage": 50,
        "DestinationS3Uri": "s3://capture/blue/",
        "CaptureOptions": [{"CaptureMode": "Output"}],
    })
    before = sagemaker.describe_endpoint(EndpointName="blue")

    answer = sagemaker.update_endpoint(
        EndpointName="blue", EndpointConfigName="blue-b", DeploymentConfig=copy.deepcopy(CANARY)
    )
    assert answer["EndpointArn"] == arn("endpoint", "blue")

    described = sagemaker.describe_endpoint(EndpointName="blue")
    assert described["EndpointStatus"] == "InService"  # the emulator completes at once
    assert described["EndpointConfigName"] == "blue-b"
    assert described["LastDeploymentConfig"] == CANARY
    assert described["DataCaptureConfig"]["DestinationS3Uri"] == "s3://capture/blue/"
    assert described["CreationTime"] == before["CreationTime"]
    assert described["LastModifiedTime"] > before["LastModifiedTime"]
    status, state = control(shared_emulator, "blue")
    assert status == 200
    assert state == {
        "EndpointName": "blue",
        "EndpointArn": arn("endpoint", "blue"),
        "EndpointStatus": "InService",
        "EndpointConfigName": "blue-b",
        "LastDeploymentConfig": CANARY,
        "UpdateCount": 1,
    }

    sagemaker.update_endpoint(EndpointName="blue", EndpointConfigName="blue-a", DeploymentConfig=LINEAR)
    status, state = control(shared_emulator, "blue")
    assert (state["EndpointConfigName"], state["LastDeploymentConfig"], state["UpdateCount"]) == (
        "blue-a",
        LINEAR,
        2,
    )
    assert "DataCaptureConfig" not in sagemaker.describe_endpoint(EndpointName="blue")

    # RetainDeploymentConfig without a DeploymentConfig keeps the last one.
    sagemaker.update_endpoint(EndpointName="blue", EndpointConfigName="blue-b", RetainDeploymentConfig=True)
    assert control(shared_emulator, "blue")[1]["LastDeploymentConfig"] == LINEAR

    # Without either (a serverless endpoint's update): none.
    sagemaker.update_endpoint(EndpointName="blue", EndpointConfigName="blue-a")
    status, state = control(shared_emulator, "blue")
    assert (state["LastDeploymentConfig"], state["UpdateCount"]) == (None, 4)
    assert "LastDeploymentConfig" not in sagemaker.describe_endpoint(EndpointName="blue")


def test_update_to_serverless_and_all_at_once(shared_emulator, sagemaker):
    endpoint_on(sagemaker, "swap", "swap-a")
    create_config(sagemaker, "swap-b", "swap-model", serverless=True)
    sagemaker.update_endpoint(EndpointName="swap", EndpointConfigName="swap-b", DeploymentConfig=ALL_AT_ONCE)
    described = sagemaker.describe_endpoint(EndpointName="swap")
    assert described["ProductionVariants"][0]["CurrentServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    assert "CurrentInstanceCount" not in described["ProductionVariants"][0]
    assert described["LastDeploymentConfig"] == ALL_AT_ONCE


def test_update_endpoint_wire_format(shared_emulator):
    """What the Rust SDK parses: the answer's JSON, and no emulator bookkeeping in it."""
    sagemaker = shared_emulator.client()
    endpoint_on(sagemaker, "wire", "wire-a", "wire-b")
    seen = {}

    def capture(http_response, **_):
        seen["status"] = http_response.status_code
        seen["body"] = http_response.content.decode()

    sagemaker.meta.events.register("after-call.sagemaker.UpdateEndpoint", capture)
    sagemaker.meta.events.register("after-call.sagemaker.DescribeEndpoint", capture)
    sagemaker.update_endpoint(EndpointName="wire", EndpointConfigName="wire-b", DeploymentConfig=CANARY)
    assert seen["status"] == 200 and '"EndpointArn"' in seen["body"]
    sagemaker.describe_endpoint(EndpointName="wire")
    assert '"LastDeploymentConfig"' in seen["body"] and "Emulator" not in seen["body"]

    with pytest.raises(ClientError):
        sagemaker.update_endpoint(EndpointName="wire-none", EndpointConfigName="wire-b")
    assert seen["status"] == 400
    assert '"ValidationException"' in seen["body"] and "Could not find endpoint" in seen["body"]


def test_update_missing_endpoint(sagemaker):
    endpoint_on(sagemaker, "lonely", "lonely-a")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_endpoint(EndpointName="ghost", EndpointConfigName="lonely-a")
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f'Could not find endpoint "{arn("endpoint", "ghost")}".',
    )


def test_update_to_missing_config_changes_nothing(shared_emulator, sagemaker):
    endpoint_on(sagemaker, "stay", "stay-a")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_endpoint(EndpointName="stay", EndpointConfigName="stay-none", DeploymentConfig=CANARY)
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f'Could not find endpoint configuration "{arn("endpoint-config", "stay-none")}".',
    )
    state = control(shared_emulator, "stay")[1]
    assert (state["EndpointConfigName"], state["LastDeploymentConfig"], state["UpdateCount"]) == ("stay-a", None, 0)


@pytest.mark.parametrize("status", IN_PROGRESS)
def test_update_of_a_busy_endpoint_is_refused(shared_emulator, sagemaker, status):
    name = f"busy-{status.lower()}"
    endpoint_on(sagemaker, name, f"{name}-a", f"{name}-b")
    assert control(shared_emulator, name, {"EndpointStatus": status}, "POST")[0] == 200
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == status

    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-b", DeploymentConfig=CANARY)
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f'Cannot update in-progress endpoint "{arn("endpoint", name)}".',
    )
    state = control(shared_emulator, name)[1]
    assert (state["EndpointStatus"], state["EndpointConfigName"], state["UpdateCount"]) == (status, f"{name}-a", 0)

    # Once it is InService again, the same update goes through.
    control(shared_emulator, name, {"EndpointStatus": "InService"}, "POST")
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-b", DeploymentConfig=CANARY)
    assert control(shared_emulator, name)[1]["UpdateCount"] == 1


def test_update_of_a_failed_endpoint_is_refused(shared_emulator, sagemaker):
    endpoint_on(sagemaker, "broken", "broken-a", "broken-b")
    status, state = control(
        shared_emulator, "broken", {"EndpointStatus": "Failed", "FailureReason": "ModelError: no ping"}, "POST"
    )
    assert status == 200
    assert (state["EndpointStatus"], state["FailureReason"]) == ("Failed", "ModelError: no ping")
    described = sagemaker.describe_endpoint(EndpointName="broken")
    assert (described["EndpointStatus"], described["FailureReason"]) == ("Failed", "ModelError: no ping")

    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_endpoint(EndpointName="broken", EndpointConfigName="broken-b")
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f'Cannot update failed endpoint "{arn("endpoint", "broken")}".',
    )


def test_update_clears_the_reason_of_a_rolled_back_update(shared_emulator, sagemaker):
    endpoint_on(sagemaker, "rolled", "rolled-a", "rolled-b")
    control(
        shared_emulator,
        "rolled",
        {"EndpointStatus": "InService", "FailureReason": "Deployment rolled back: alarm mlops--5xx"},
        "POST",
    )
    assert sagemaker.describe_endpoint(EndpointName="rolled")["FailureReason"].startswith("Deployment rolled back")
    sagemaker.update_endpoint(EndpointName="rolled", EndpointConfigName="rolled-b", DeploymentConfig=LINEAR)
    assert "FailureReason" not in sagemaker.describe_endpoint(EndpointName="rolled")


@pytest.mark.parametrize(
    "deployment, message",
    [
        (
            {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "BLUE", "WaitIntervalInSeconds": 1}}},
            "1 validation error detected: Value 'BLUE' at "
            "'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.type' failed to "
            "satisfy constraint: Member must satisfy enum value set: [ALL_AT_ONCE, CANARY, LINEAR]",
        ),
        (
            {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "CANARY",
                        "WaitIntervalInSeconds": 3601,
                        "CanarySize": {"Type": "PERCENT", "Value": 0},
                    },
                    "MaximumExecutionTimeoutInSeconds": 100,
                }
            },
            "4 validation errors detected: "
            "Value '3601' at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration."
            "waitIntervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600; "
            "Value 'PERCENT' at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.canarySize.type' "
            "failed to satisfy constraint: Member must satisfy enum value set: [INSTANCE_COUNT, CAPACITY_PERCENT]; "
            "Value '0' at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.canarySize.value' "
            "failed to satisfy constraint: Member must have value greater than or equal to 1; "
            "Value '100' at 'deploymentConfig.blueGreenUpdatePolicy.maximumExecutionTimeoutInSeconds' "
            "failed to satisfy constraint: Member must have value greater than or equal to 600",
        ),
        (
            {"AutoRollbackConfiguration": {"Alarms": []}},
            "1 validation error detected: Value '[]' at 'deploymentConfig.autoRollbackConfiguration.alarms' "
            "failed to satisfy constraint: Member must have length greater than or equal to 1",
        ),
        (
            {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "mlops--5xx"}, {"AlarmName": " "}]}},
            "1 validation error detected: Value ' ' at "
            "'deploymentConfig.autoRollbackConfiguration.alarms.2.member.alarmName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: (?!\\s*$).+",
        ),
        (
            {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 60}}},
            "TrafficRoutingConfiguration CanarySize is required when Type is CANARY.",
        ),
        (
            {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "LINEAR", "WaitIntervalInSeconds": 60}}},
            "TrafficRoutingConfiguration LinearStepSize is required when Type is LINEAR.",
        ),
    ],
    ids=["type", "ranges-and-size-type", "no-alarms", "blank-alarm-name", "canary-without-size", "linear-without-step"],
)
def test_bad_deployment_config_is_refused(shared_emulator, deployment, message):
    # boto3 would refuse some of these itself; the Rust SDK checks none of them.
    sagemaker = shared_emulator.client(validate=False)
    name = "checked"
    if name not in {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}:
        endpoint_on(sagemaker, name, "checked-a", "checked-b")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName="checked-b", DeploymentConfig=deployment)
    assert error_of(excinfo) == (400, "ValidationException", message)
    assert control(shared_emulator, name)[1]["UpdateCount"] == 0


# --- the endpoint test control ---------------------------------------------------


@pytest.mark.parametrize(
    "body, message",
    [
        pytest.param({"EndpointStatus": "Running"}, "EndpointStatus: 'Running' is not one of", id="unknown-status"),
        pytest.param({"EndpointStatus": 3}, "EndpointStatus: 3 is not one of", id="status-not-string"),
        pytest.param(
            {"Status": "Failed"},
            "body: Additional properties are not allowed ('Status' was unexpected)",
            id="unknown-key",
        ),
        pytest.param({"FailureReason": 3}, "FailureReason: 3 is not of type", id="reason-not-string"),
        pytest.param(
            {"StatusAfterUpdate": "Creating"},
            "StatusAfterUpdate: 'Creating' is not one of ['InService', 'Updating']",
            id="unknown-status-after-update",
        ),
        pytest.param({"UpdateSeconds": 0}, "UpdateSeconds: 0 is less than or equal to the minimum of 0", id="seconds-zero"),
        pytest.param({"UpdateSeconds": -1}, "UpdateSeconds: -1 is less than or equal to the minimum of 0", id="seconds-negative"),
        pytest.param({"UpdateSeconds": 600.5}, "UpdateSeconds: 600.5 is greater than the maximum of 600", id="seconds-too-many"),
        pytest.param({"UpdateSeconds": "1"}, "UpdateSeconds: '1' is not of type 'number', 'null'", id="seconds-string"),
        pytest.param({"UpdateSeconds": True}, "UpdateSeconds: True is not of type 'number', 'null'", id="seconds-boolean"),
        pytest.param(
            {"UpdateOutcome": "Failed"},
            "UpdateOutcome: 'Failed' is not one of ['InService', 'RolledBack', None]",
            id="unknown-outcome",
        ),
        pytest.param({"RollbackReason": 3}, "RollbackReason: 3 is not of type 'string', 'null'", id="reason-number"),
        pytest.param({"RollbackReason": ""}, "RollbackReason: '' should be non-empty", id="reason-empty"),
        pytest.param(
            {"CreateSeconds": 1},
            "body: Additional properties are not allowed ('CreateSeconds' was unexpected)",
            id="create-seconds-is-a-region-default",
        ),
        pytest.param([], "body: [] is not of type 'object'", id="body-not-object"),
        pytest.param(b"not json", "Expecting value", id="not-json"),
    ],
)
def test_control_rejects_bad_endpoint_bodies(shared_emulator, sagemaker, body, message):
    # Checked against control.ENDPOINT_BODY; the message names the field.
    name = "ctl-bad"
    if name not in {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}:
        endpoint_on(sagemaker, name, "ctl-bad-a")
    status, answer = control(shared_emulator, name, body, "POST")
    assert status == 400 and answer["Code"] == "BadRequest", answer
    assert answer["Message"].startswith(message), answer
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"


def test_control_endpoint_reason_status_and_errors(shared_emulator, sagemaker):
    endpoint_on(sagemaker, "ctl", "ctl-a")
    status, state = control(shared_emulator, "ctl", {"FailureReason": "alarm"}, "POST")
    assert status == 200 and (state["EndpointStatus"], state["FailureReason"]) == ("InService", "alarm")
    status, state = control(shared_emulator, "ctl", {"EndpointStatus": "Updating"}, "POST")
    assert state["EndpointStatus"] == "Updating" and "FailureReason" not in state  # a new status clears it
    status, state = control(shared_emulator, "ctl", {"FailureReason": None}, "POST")
    assert status == 200 and "FailureReason" not in state
    status, state = control(shared_emulator, "ctl", None, "POST")  # no body: nothing changes
    assert status == 200 and state["EndpointStatus"] == "Updating"

    assert control(shared_emulator, "ctl-none")[0] == 404
    assert control(shared_emulator, "ctl-none", {"EndpointStatus": "Failed"}, "POST")[0] == 404
    status, answer = control(shared_emulator, "ctl", None, "DELETE")
    assert (status, answer["Code"]) == (405, "MethodNotAllowed")
    status, answer = shared_emulator.control("sagemaker/endpoints/ctl/extra", None, method="GET")
    assert (status, answer["Code"]) == (404, "NotFound")


def test_control_endpoint_region_parameter(shared_emulator):
    west = shared_emulator.client(region="us-west-2")
    endpoint_on(west, "west", "west-a")
    assert control(shared_emulator, "west")[0] == 404  # not in us-east-1
    status, state = control(shared_emulator, "west?region=us-west-2", {"EndpointStatus": "Creating"}, "POST")
    assert status == 200 and state["EndpointArn"].startswith("arn:aws:sagemaker:us-west-2:")
    assert west.describe_endpoint(EndpointName="west")["EndpointStatus"] == "Creating"


# --- held updates: UpdateSeconds, UpdateOutcome, the region's defaults (control.py) ---

ROLLED_BACK_BY_ALARMS = (
    "Deployment was rolled back: CloudWatch alarm(s) mlops--5xx, mlops--latency went into ALARM state."
)
ROLLED_BACK = "Deployment was rolled back: CloudWatch alarm(s) of the deployment went into ALARM state."


def test_held_update_is_updating_then_in_service_with_an_event_at_each_end(shared_emulator, sagemaker):
    name = "held"
    endpoint_on(sagemaker, name, "held-a", "held-b", "held-c")
    receive = endpoint_events(shared_emulator, name)
    status, state = control(shared_emulator, name, {"UpdateSeconds": 1}, "POST")
    assert status == 200 and (state["EndpointStatus"], state["UpdateSeconds"]) == ("InService", 1)
    assert "UpdateOutcome" not in state and "RollbackReason" not in state

    started = time.monotonic()
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName="held-b", DeploymentConfig=CANARY)
    assert time.monotonic() - started < 0.9  # the request does not wait for the hold
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("Updating", "held-b")
    # While it is held, another update is refused (rule 10).
    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName="held-c")
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f'Cannot update in-progress endpoint "{arn("endpoint", name)}".',
    )

    events = receive(2)
    assert statuses(events) == ["UPDATING", "IN_SERVICE"]
    assert time.monotonic() - started >= 1.0
    for event in events:
        assert (event["source"], event["detail-type"]) == ("aws.sagemaker", "SageMaker Endpoint State Change")
        assert (event["account"], event["region"]) == (ACCOUNT, REGION)
        assert event["resources"] == [arn("endpoint", name)]
        detail = event["detail"]
        assert (detail["EndpointName"], detail["EndpointArn"]) == (name, arn("endpoint", name))
        assert detail["EndpointConfigName"] == "held-b"
        assert [v["VariantName"] for v in detail["ProductionVariants"]] == ["AllTraffic"]
        assert detail["Tags"] == {} and "FailureReason" not in detail
        assert isinstance(detail["CreationTime"], float)  # epoch milliseconds, as local_sagemaker's
    assert events[1]["detail"]["LastModifiedTime"] > events[0]["detail"]["LastModifiedTime"]

    described = sagemaker.describe_endpoint(EndpointName=name)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "held-b")
    assert described["LastDeploymentConfig"] == CANARY and "FailureReason" not in described
    state = control(shared_emulator, name)[1]
    assert (state["EndpointStatus"], state["UpdateCount"], state["UpdateSeconds"]) == ("InService", 1, 1)

    # null removes the setting: updates complete at once again, with no event.
    status, state = control(shared_emulator, name, {"UpdateSeconds": None}, "POST")
    assert status == 200 and "UpdateSeconds" not in state
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName="held-c")
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
    assert receive(1, timeout=0.5) == []


def test_of_concurrent_held_updates_exactly_one_succeeds(shared_emulator, sagemaker):
    name = "held-race"
    endpoint_on(sagemaker, name, "held-race-a", "held-race-b", "held-race-c")
    control(shared_emulator, name, {"UpdateSeconds": 2}, "POST")

    def update(config: str) -> str:
        try:
            sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=config)
            return "updated"
        except ClientError as error:
            assert "Cannot update in-progress endpoint" in error.response["Error"]["Message"]
            return error.response["Error"]["Code"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(update, ["held-race-b", "held-race-c"] * 4))
    assert sorted(answers) == ["ValidationException"] * 7 + ["updated"]
    state = control(shared_emulator, name)[1]
    assert (state["EndpointStatus"], state["UpdateCount"]) == ("Updating", 1)


def test_rolled_back_update_returns_to_the_old_configuration(shared_emulator, sagemaker):
    name = "rollback"
    create_model(sagemaker, f"{name}-model")
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 20,
        "DestinationS3Uri": "s3://capture/rollback/",
        "CaptureOptions": [{"CaptureMode": "Input"}],
    }
    create_config(sagemaker, f"{name}-a", f"{name}-model", DataCaptureConfig=capture)
    create_config(sagemaker, f"{name}-b", f"{name}-model", serverless=True)
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-a")
    before = sagemaker.describe_endpoint(EndpointName=name)
    receive = endpoint_events(shared_emulator, name)
    status, state = control(shared_emulator, name, {"UpdateSeconds": 0.5, "UpdateOutcome": "RolledBack"}, "POST")
    assert status == 200 and (state["UpdateSeconds"], state["UpdateOutcome"]) == (0.5, "RolledBack")

    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-b", DeploymentConfig=CANARY)
    held = sagemaker.describe_endpoint(EndpointName=name)
    assert (held["EndpointStatus"], held["EndpointConfigName"]) == ("Updating", f"{name}-b")
    assert "CurrentServerlessConfig" in held["ProductionVariants"][0] and "DataCaptureConfig" not in held

    events = receive(2)
    assert statuses(events) == ["UPDATING", "IN_SERVICE"]
    assert [e["detail"]["EndpointConfigName"] for e in events] == [f"{name}-b", f"{name}-a"]
    assert "FailureReason" not in events[0]["detail"]
    assert events[1]["detail"]["FailureReason"] == ROLLED_BACK_BY_ALARMS
    after = sagemaker.describe_endpoint(EndpointName=name)
    assert (after["EndpointStatus"], after["EndpointConfigName"]) == ("InService", f"{name}-a")
    assert after["ProductionVariants"] == before["ProductionVariants"]
    assert after["DataCaptureConfig"] == before["DataCaptureConfig"]
    assert after["FailureReason"] == ROLLED_BACK_BY_ALARMS
    assert after["LastDeploymentConfig"] == CANARY  # the update that was rolled back
    assert control(shared_emulator, name)[1]["UpdateCount"] == 1

    # RollbackReason is the FailureReason when set; without alarms, the emulator's words say so.
    for body, deployment, reason in (
        ({"RollbackReason": "Alarm mlops--5xx in ALARM"}, CANARY, "Alarm mlops--5xx in ALARM"),
        ({"RollbackReason": None}, ALL_AT_ONCE, ROLLED_BACK),
    ):
        control(shared_emulator, name, body, "POST")
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-b", DeploymentConfig=deployment)
        assert "FailureReason" not in sagemaker.describe_endpoint(EndpointName=name)  # a new update clears it
        events = receive(2)
        assert statuses(events) == ["UPDATING", "IN_SERVICE"]
        assert events[1]["detail"]["FailureReason"] == reason
        after = sagemaker.describe_endpoint(EndpointName=name)
        assert (after["EndpointConfigName"], after["FailureReason"]) == (f"{name}-a", reason)

    # An update that goes through removes the reason.
    control(shared_emulator, name, {"UpdateOutcome": "InService"}, "POST")
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-b", DeploymentConfig=CANARY)
    assert statuses(receive(2)) == ["UPDATING", "IN_SERVICE"]
    after = sagemaker.describe_endpoint(EndpointName=name)
    assert (after["EndpointStatus"], after["EndpointConfigName"]) == ("InService", f"{name}-b")
    assert "FailureReason" not in after


def test_a_held_update_does_nothing_once_the_endpoint_is_gone_or_set(shared_emulator, sagemaker):
    name = "held-gone"
    endpoint_on(sagemaker, name, f"{name}-a", f"{name}-b")
    receive = endpoint_events(shared_emulator, name)
    control(shared_emulator, name, {"UpdateSeconds": 0.5, "UpdateOutcome": "RolledBack"}, "POST")
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-b")
    sagemaker.delete_endpoint(EndpointName=name)  # while held
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-b")
    state = control(shared_emulator, name)[1]  # a new endpoint: the settings went with the old one
    assert (state["EndpointStatus"], state["UpdateCount"]) == ("InService", 0) and "UpdateSeconds" not in state
    assert statuses(receive(2, timeout=1.5)) == ["UPDATING"]  # the rollback never came
    after = sagemaker.describe_endpoint(EndpointName=name)
    assert (after["EndpointStatus"], after["EndpointConfigName"]) == ("InService", f"{name}-b")
    assert "FailureReason" not in after

    # A status the test sets while the update is held stays.
    control(shared_emulator, name, {"UpdateSeconds": 0.5}, "POST")
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-a")
    control(shared_emulator, name, {"EndpointStatus": "Failed", "FailureReason": "ModelError: no ping"}, "POST")
    assert statuses(receive(2, timeout=1.5)) == ["UPDATING"]
    after = sagemaker.describe_endpoint(EndpointName=name)
    assert (after["EndpointStatus"], after["FailureReason"]) == ("Failed", "ModelError: no ping")


def test_status_after_update_wins_over_update_seconds(shared_emulator, sagemaker):
    name = "held-manual"
    endpoint_on(sagemaker, name, f"{name}-a", f"{name}-b")
    receive = endpoint_events(shared_emulator, name)
    status, state = control(shared_emulator, name, {"StatusAfterUpdate": "Updating", "UpdateSeconds": 0.3}, "POST")
    assert (state["StatusAfterUpdate"], state["UpdateSeconds"]) == ("Updating", 0.3)
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-b")
    assert receive(1, timeout=1.0) == []  # no timer, no event: the test finishes it
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Updating"


def test_region_defaults_hold_every_create_and_update(shared_emulator):
    region = "eu-west-1"  # a region of its own: the defaults apply to every endpoint in it
    west = shared_emulator.client(region=region)
    defaults = f"sagemaker/endpoint-defaults?region={region}"
    assert shared_emulator.control(defaults, None, method="GET") == (200, {})
    try:
        body = {"UpdateSeconds": 0.5, "CreateSeconds": 0.5}
        assert shared_emulator.control(defaults, body) == (200, body)
        assert shared_emulator.control(defaults, None, method="GET") == (200, body)
        assert shared_emulator.control("sagemaker/endpoint-defaults", None, method="GET") == (200, {})

        name = "defaulted"
        receive = endpoint_events(shared_emulator, name, region)
        endpoint_on(west, name, f"{name}-a", f"{name}-b")  # created after the defaults
        assert west.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Creating"
        events = receive(2)
        assert statuses(events) == ["CREATING", "IN_SERVICE"]
        assert {e["region"] for e in events} == {region}
        assert west.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"

        west.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-b")
        assert west.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Updating"
        assert statuses(receive(2)) == ["UPDATING", "IN_SERVICE"]
        assert west.describe_endpoint(EndpointName=name)["EndpointConfigName"] == f"{name}-b"

        # The endpoint's own keys win, key by key: held by the default, rolled back by its own.
        state = control(shared_emulator, f"{name}?region={region}", {"UpdateOutcome": "RolledBack"}, "POST")[1]
        assert state["UpdateOutcome"] == "RolledBack" and "UpdateSeconds" not in state
        west.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-a")
        events = receive(2)
        assert statuses(events) == ["UPDATING", "IN_SERVICE"]
        assert events[1]["detail"]["FailureReason"] == ROLLED_BACK
        assert west.describe_endpoint(EndpointName=name)["EndpointConfigName"] == f"{name}-b"

        # {} clears the defaults: instant again, no events.
        assert shared_emulator.control(defaults, {}) == (200, {})
        west.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-a")
        assert west.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
        create_config(west, f"{name}-c", f"{name}-model")
        west.create_endpoint(EndpointName=f"{name}-2", EndpointConfigName=f"{name}-c")
        assert west.describe_endpoint(EndpointName=f"{name}-2")["EndpointStatus"] == "InService"
        assert receive(1, timeout=0.5) == []
    finally:
        shared_emulator.control(defaults, {})


@pytest.mark.parametrize(
    "body, message",
    [
        pytest.param({"UpdateSeconds": 0}, "UpdateSeconds: 0 is less than or equal to the minimum of 0", id="zero"),
        pytest.param({"CreateSeconds": 601}, "CreateSeconds: 601 is greater than the maximum of 600", id="too-many"),
        pytest.param({"UpdateSeconds": None}, "UpdateSeconds: None is not of type 'number'", id="null"),
        pytest.param(
            {"UpdateOutcome": "Failed"}, "UpdateOutcome: 'Failed' is not one of ['InService', 'RolledBack']", id="outcome"
        ),
        pytest.param({"RollbackReason": ["x"]}, "RollbackReason: ['x'] is not of type 'string'", id="reason"),
        pytest.param(
            {"StatusAfterUpdate": "Updating"},
            "body: Additional properties are not allowed ('StatusAfterUpdate' was unexpected)",
            id="per-endpoint-key",
        ),
        pytest.param([], "body: [] is not of type 'object'", id="not-object"),
        pytest.param(b"{", "Expecting property name", id="not-json"),
    ],
)
def test_control_rejects_bad_endpoint_defaults(shared_emulator, body, message):
    status, answer = shared_emulator.control("sagemaker/endpoint-defaults", body)
    assert status == 400 and answer["Code"] == "BadRequest", answer
    assert answer["Message"].startswith(message), answer
    assert shared_emulator.control("sagemaker/endpoint-defaults", None, method="GET") == (200, {})


def test_control_endpoint_defaults_methods_and_paths(shared_emulator):
    status, answer = shared_emulator.control("sagemaker/endpoint-defaults", None, method="DELETE")
    assert (status, answer["Code"]) == (405, "MethodNotAllowed")
    status, answer = shared_emulator.control("sagemaker/endpoint-defaults/x", None, method="GET")
    assert (status, answer["Code"]) == (404, "NotFound")
    status, answer = shared_emulator.control("sagemaker/endpoint-defaults?region=nowhere-1", {"UpdateSeconds": 1})
    assert (status, answer["Code"]) == (404, "NotFound")


# --- ListModelPackages pages, DescribeModelPackage (stock moto) -------------------


def test_list_approved_versions_newest_first_one_per_page(sagemaker):
    group = "paged-models"
    statuses = ["Approved", "Rejected", "Approved", "PendingManualApproval", "Approved"]
    arns = [model_package(sagemaker, group, status) for status in statuses]
    seen = [
        (s["ModelPackageArn"], s["ModelPackageVersion"], s["ModelApprovalStatus"])
        for s in approved_one_per_page(sagemaker, group)
    ]
    assert seen == [(arns[4], 5, "Approved"), (arns[2], 3, "Approved"), (arns[0], 1, "Approved")]

    paginator = sagemaker.get_paginator("list_model_packages")
    request = dict(
        ModelPackageGroupName=group, ModelApprovalStatus="Approved", SortBy="CreationTime", SortOrder="Descending"
    )
    pages = paginator.paginate(**request, PaginationConfig={"PageSize": 2})
    assert [s["ModelPackageVersion"] for p in pages for s in p["ModelPackageSummaryList"]] == [5, 3, 1]

    described = sagemaker.describe_model_package(ModelPackageName=arns[2])
    assert (described["ModelPackageArn"], described["ModelPackageVersion"]) == (arns[2], 3)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["InferenceSpecification"]["Containers"][0]["Image"] == IMAGE


# --- Application Auto Scaling for a variant (stock moto) --------------------------


def test_variant_auto_scaling_target_and_policy(shared_emulator, sagemaker):
    endpoint_on(sagemaker, "scaled", "scaled-a")
    scaling = shared_emulator.client("application-autoscaling")
    resource = "endpoint/scaled/variant/AllTraffic"
    dimension = "sagemaker:variant:DesiredInstanceCount"
    target_arn = scaling.register_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=dimension, MinCapacity=1, MaxCapacity=4
    )["ScalableTargetARN"]
    assert target_arn.startswith(f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/")
    # Registering again updates the capacities in place.
    again = scaling.register_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=dimension, MinCapacity=2, MaxCapacity=6
    )["ScalableTargetARN"]
    assert again == target_arn

    tracking = {
        "TargetValue": 70.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        "ScaleInCooldown": 300,
        "ScaleOutCooldown": 60,
    }
    policy = scaling.put_scaling_policy(
        PolicyName="invocations",
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension=dimension,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=tracking,
    )
    assert policy["PolicyARN"].endswith(f":resource/sagemaker/{resource}:policyName/invocations")

    targets = scaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])["ScalableTargets"]
    assert [(t["ResourceId"], t["ScalableDimension"], t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [
        (resource, dimension, 2, 6)
    ]
    policies = scaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource)["ScalingPolicies"]
    assert len(policies) == 1
    assert policies[0]["PolicyName"] == "invocations"
    assert policies[0]["PolicyType"] == "TargetTrackingScaling"
    assert policies[0]["TargetTrackingScalingPolicyConfiguration"] == tracking
    assert policies[0]["PolicyARN"] == policy["PolicyARN"]


# --- the deploy stage's calls, in order ------------------------------------------


def test_create_reuse_update_flow(shared_emulator, sagemaker):
    """Create, a repeated event (reuse), then the next version (blue/green update)."""
    group, endpoint = "flow-models", "flow-endpoint"
    v1 = model_package(sagemaker, group)
    v2 = model_package(sagemaker, group)

    def deploy_resources(package: str, version: int) -> str:
        for create, exists in (
            (lambda: create_model(sagemaker, f"flow-model-v{version}", package, EnableNetworkIsolation=True), "model"),
            (
                lambda: create_config(sagemaker, f"flow-epc-v{version}", f"flow-model-v{version}"),
                "endpoint configuration",
            ),
        ):
            try:
                create()
            except ClientError as error:  # a repeated event: reuse
                assert error.response["Error"]["Code"] == "ValidationException"
                assert error.response["Error"]["Message"].startswith(f"Cannot create already existing {exists} ")
        return f"flow-epc-v{version}"

    # First approval: the endpoint is missing, so it is created.
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_endpoint(EndpointName=endpoint)
    assert error_of(excinfo)[1:] == ("ValidationException", f'Could not find endpoint "{arn("endpoint", endpoint)}".')
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=deploy_resources(v1, 1))

    # The same event again: everything exists, the endpoint is live on it.
    assert deploy_resources(v1, 1) == "flow-epc-v1"
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", "flow-epc-v1")

    # The next version: a blue/green update.
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=deploy_resources(v2, 2), DeploymentConfig=CANARY
    )
    status, state = control(shared_emulator, endpoint)
    assert (state["EndpointConfigName"], state["LastDeploymentConfig"], state["UpdateCount"]) == (
        "flow-epc-v2",
        CANARY,
        1,
    )
    model = sagemaker.describe_model(ModelName="flow-model-v2")
    assert model["Containers"] == [{"ModelPackageName": v2}]


def test_add_tags_overwrites_an_existing_key(sagemaker):
    """Rule 15: SageMaker's AddTags replaces the value of a key already there."""
    endpoint_on(sagemaker, "retagged", "retagged-config")
    endpoint = arn("endpoint", "retagged")
    sagemaker.add_tags(ResourceArn=endpoint, Tags=[{"Key": "version", "Value": "1"}])
    sagemaker.add_tags(
        ResourceArn=endpoint,
        Tags=[{"Key": "version", "Value": "2"}, {"Key": "pipeline", "Value": "mlops"}],
    )
    tags = sagemaker.list_tags(ResourceArn=endpoint)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("pipeline", "mlops"), ("version", "2")]
