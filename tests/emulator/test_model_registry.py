"""The model registry as the register stage uses it: rules 6-9 and 18 of
sagemaker_rules and the stock moto behaviour the Rust tests rely on.

One emulator for the module (`shared_emulator`); each test uses groups and
tokens of its own.
"""

from __future__ import annotations

import copy
import json
import threading

import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, approved_one_per_page, error_of

IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn-inference@sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def sagemaker(shared_emulator):
    return shared_emulator.client()


def group_arn(group: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/{group}"


def package_arn(group: str, version: int) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/{version}"


def create_group(sagemaker, group: str, description: str = "churn models") -> str:
    return sagemaker.create_model_package_group(
        ModelPackageGroupName=group,
        ModelPackageGroupDescription=description,
        Tags=[{"Key": "project", "Value": "churn"}],
    )["ModelPackageGroupArn"]


def package_request(group: str, job: str = "mlops-train-1", **overrides) -> dict:
    request = dict(
        ModelPackageGroupName=group,
        ModelPackageDescription=f"trained by {job}",
        InferenceSpecification={
            "Containers": [
                {"Image": IMAGE, "ModelDataUrl": f"s3://artifacts/churn/{job}/output/model.tar.gz"}
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv", "application/json"],
            "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large", "ml.m5.xlarge"],
        },
        ModelMetrics={
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": f"s3://artifacts/churn/{job}/output/evaluation.json",
                }
            }
        },
        CustomerMetadataProperties={"training_job": job, "validation:auc": "0.91"},
        ModelApprovalStatus="PendingManualApproval",
    )
    request.update(overrides)
    return request


def versions(sagemaker, group: str, **filters) -> list[int]:
    summaries = sagemaker.list_model_packages(ModelPackageGroupName=group, **filters)[
        "ModelPackageSummaryList"
    ]
    return [summary["ModelPackageVersion"] for summary in summaries]


# --- stock moto: groups ------------------------------------------------------


def test_describe_missing_group_is_validation_exception(sagemaker):
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_model_package_group(ModelPackageGroupName="never-created")
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f"ModelPackageGroup {group_arn('never-created')} does not exist.",
    )


def test_describe_group_echoes_it(sagemaker):
    arn = create_group(sagemaker, "describe-group", "what it is for")
    assert arn == group_arn("describe-group")
    described = sagemaker.describe_model_package_group(ModelPackageGroupName="describe-group")
    assert described["ModelPackageGroupName"] == "describe-group"
    assert described["ModelPackageGroupArn"] == arn
    assert described["ModelPackageGroupDescription"] == "what it is for"
    assert described["ModelPackageGroupStatus"] == "Completed"
    assert "CreationTime" in described


def test_package_in_missing_group_is_validation_exception(sagemaker):
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_model_package(**package_request("no-such-group"))
    status, code, message = error_of(excinfo)
    assert (status, code) == (400, "ValidationException")
    assert "Model Package Group does not exist." in message


# --- rule 6: group names are unique -----------------------------------------


def test_duplicate_group_is_validation_exception(sagemaker):
    arn = create_group(sagemaker, "dup-group", "first")
    with pytest.raises(ClientError) as excinfo:
        create_group(sagemaker, "dup-group", "second")
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f"Model Package Group already exists: {arn}",
    )
    described = sagemaker.describe_model_package_group(ModelPackageGroupName="dup-group")
    assert described["ModelPackageGroupDescription"] == "first"


def test_duplicate_group_wire_format(shared_emulator):
    """What the Rust SDK parses: HTTP 400 and __type ValidationException."""
    sagemaker = shared_emulator.client()
    create_group(sagemaker, "wire-group")
    seen = {}

    def capture(http_response, **_):
        seen["status"] = http_response.status_code
        seen["body"] = http_response.content.decode()

    sagemaker.meta.events.register("after-call.sagemaker.CreateModelPackageGroup", capture)
    with pytest.raises(ClientError):
        create_group(sagemaker, "wire-group")
    assert seen["status"] == 400
    assert '"__type"' in seen["body"] and "ValidationException" in seen["body"]
    assert "already exists" in seen["body"]


# --- stock moto: versioned packages echo what was sent ----------------------


def test_versioned_package_echoes_request(sagemaker):
    create_group(sagemaker, "echo-group")
    request = package_request("echo-group")
    first = sagemaker.create_model_package(**copy.deepcopy(request))["ModelPackageArn"]
    second = sagemaker.create_model_package(**package_request("echo-group", "mlops-train-2"))[
        "ModelPackageArn"
    ]
    assert first == package_arn("echo-group", 1)
    assert second == package_arn("echo-group", 2)

    described = sagemaker.describe_model_package(ModelPackageName=first)
    assert described["ModelPackageArn"] == first
    assert described["ModelPackageGroupName"] == "echo-group"
    assert described["ModelPackageVersion"] == 1
    assert described["ModelPackageStatus"] == "Completed"
    for key in (
        "InferenceSpecification",
        "ModelMetrics",
        "CustomerMetadataProperties",
        "ModelApprovalStatus",
        "ModelPackageDescription",
    ):
        assert described[key] == request[key], key
    assert "CreationTime" in described
    assert sagemaker.describe_model_package(ModelPackageName=second)["ModelPackageVersion"] == 2


def test_versions_count_per_group(sagemaker):
    create_group(sagemaker, "count-a")
    create_group(sagemaker, "count-b")
    a1 = sagemaker.create_model_package(**package_request("count-a"))["ModelPackageArn"]
    b1 = sagemaker.create_model_package(**package_request("count-b"))["ModelPackageArn"]
    a2 = sagemaker.create_model_package(**package_request("count-a"))["ModelPackageArn"]
    assert (a1, b1, a2) == (
        package_arn("count-a", 1),
        package_arn("count-b", 1),
        package_arn("count-a", 2),
    )


def test_list_filters_by_group_and_approval_and_sorts(sagemaker):
    create_group(sagemaker, "list-group")
    create_group(sagemaker, "list-other")
    for _ in range(3):
        sagemaker.create_model_package(**package_request("list-group"))
    sagemaker.create_model_package(**package_request("list-other", ModelApprovalStatus="Approved"))
    for version in (1, 3):
        answer = sagemaker.update_model_package(
            ModelPackageArn=package_arn("list-group", version), ModelApprovalStatus="Approved"
        )
        assert answer["ModelPackageArn"] == package_arn("list-group", version)

    assert versions(sagemaker, "list-group", SortBy="CreationTime", SortOrder="Ascending") == [1, 2, 3]
    assert versions(sagemaker, "list-group", SortBy="CreationTime", SortOrder="Descending") == [3, 2, 1]
    approved = sagemaker.list_model_packages(
        ModelPackageGroupName="list-group",
        ModelApprovalStatus="Approved",
        SortBy="CreationTime",
        SortOrder="Descending",
    )["ModelPackageSummaryList"]
    assert [s["ModelPackageArn"] for s in approved] == [
        package_arn("list-group", 3),
        package_arn("list-group", 1),
    ]
    assert {s["ModelApprovalStatus"] for s in approved} == {"Approved"}
    assert versions(sagemaker, "list-group", ModelApprovalStatus="Rejected") == []


# --- rule 7: ClientToken -----------------------------------------------------


def test_repeated_client_token_returns_first_arn(sagemaker):
    create_group(sagemaker, "token-group")
    first = sagemaker.create_model_package(**package_request("token-group", ClientToken="eval-1"))
    # A retry, even one whose other fields differ, answers the first ARN and changes nothing.
    again = sagemaker.create_model_package(
        **package_request("token-group", "other-job", ClientToken="eval-1")
    )
    assert first["ModelPackageArn"] == again["ModelPackageArn"] == package_arn("token-group", 1)
    assert versions(sagemaker, "token-group") == [1]
    described = sagemaker.describe_model_package(ModelPackageName=first["ModelPackageArn"])
    assert described["CustomerMetadataProperties"]["training_job"] == "mlops-train-1"

    other = sagemaker.create_model_package(**package_request("token-group", ClientToken="eval-2"))
    untokened = sagemaker.create_model_package(**package_request("token-group"))
    assert other["ModelPackageArn"] == package_arn("token-group", 2)
    assert untokened["ModelPackageArn"] == package_arn("token-group", 3)


def test_client_token_with_other_group_is_validation_exception(sagemaker):
    create_group(sagemaker, "token-first")
    create_group(sagemaker, "token-second")
    arn = sagemaker.create_model_package(**package_request("token-first", ClientToken="shared"))[
        "ModelPackageArn"
    ]
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_model_package(**package_request("token-second", ClientToken="shared"))
    status, code, message = error_of(excinfo)
    assert (status, code) == (400, "ValidationException")
    assert message.startswith("ClientToken shared was already used with different parameters")
    assert arn in message
    assert versions(sagemaker, "token-second") == []


def test_client_token_constraints(sagemaker):
    create_group(sagemaker, "token-constraints")
    for token, constraint in (
        ("a" * 37, "Member must have length less than or equal to 36"),
        ("eval_1", "Member must satisfy regular expression pattern: [a-zA-Z0-9-]+"),
    ):
        with pytest.raises(ClientError) as excinfo:
            sagemaker.create_model_package(**package_request("token-constraints", ClientToken=token))
        assert error_of(excinfo) == (
            400,
            "ValidationException",
            f"1 validation error detected: Value '{token}' at 'clientToken' "
            f"failed to satisfy constraint: {constraint}",
        )
    assert versions(sagemaker, "token-constraints") == []
    longest = "A-" + "9" * 34  # 36 characters
    for _ in range(2):
        arn = sagemaker.create_model_package(
            **package_request("token-constraints", ClientToken=longest)
        )["ModelPackageArn"]
        assert arn == package_arn("token-constraints", 1)
    assert versions(sagemaker, "token-constraints") == [1]


def test_failed_create_records_no_token(sagemaker):
    with pytest.raises(ClientError):
        sagemaker.create_model_package(**package_request("token-late", ClientToken="late"))
    create_group(sagemaker, "token-late")
    arn = sagemaker.create_model_package(**package_request("token-late", ClientToken="late"))[
        "ModelPackageArn"
    ]
    assert arn == package_arn("token-late", 1)


def test_client_tokens_are_per_region(shared_emulator):
    east = shared_emulator.client()
    west = shared_emulator.client(region="us-west-2")
    for client in (east, west):
        create_group(client, "token-regions")
    east_arn = east.create_model_package(**package_request("token-regions", ClientToken="r"))
    west_arn = west.create_model_package(**package_request("token-regions", ClientToken="r"))
    assert east_arn["ModelPackageArn"] == package_arn("token-regions", 1)
    assert west_arn["ModelPackageArn"] == package_arn("token-regions", 1).replace(REGION, "us-west-2")


def test_concurrent_retries_make_one_version(shared_emulator):
    sagemaker = shared_emulator.client()
    create_group(sagemaker, "token-race")
    arns: list[str] = []

    def create(client, token):
        arns.append(client.create_model_package(**package_request("token-race", ClientToken=token))[
            "ModelPackageArn"
        ])

    threads = [
        threading.Thread(target=create, args=(shared_emulator.client(), "same")) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert arns == [package_arn("token-race", 1)] * 6
    assert versions(sagemaker, "token-race") == [1]


def test_concurrent_creates_get_distinct_versions(shared_emulator):
    sagemaker = shared_emulator.client()
    create_group(sagemaker, "version-race")
    arns: list[str] = []

    def create(client):
        arns.append(client.create_model_package(**package_request("version-race"))["ModelPackageArn"])

    threads = [threading.Thread(target=create, args=(shared_emulator.client(),)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(arns) == [package_arn("version-race", v) for v in range(1, 7)]


def test_group_by_arn(sagemaker):
    arn = create_group(sagemaker, "arn-group")
    created = sagemaker.create_model_package(**package_request(arn, ClientToken="by-arn"))
    assert created["ModelPackageArn"] == package_arn("arn-group", 1)
    # The token remembers the group, however it was named.
    again = sagemaker.create_model_package(**package_request("arn-group", ClientToken="by-arn"))
    assert again["ModelPackageArn"] == created["ModelPackageArn"]


# --- rule 8: UpdateModelPackage keeps what was not sent ---------------------


def test_approval_keeps_metadata(sagemaker):
    create_group(sagemaker, "approve-group")
    request = package_request("approve-group")
    arn = sagemaker.create_model_package(**request)["ModelPackageArn"]

    sagemaker.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="auc above 0.9"
    )
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ApprovalDescription"] == "auc above 0.9"
    assert described["CustomerMetadataProperties"] == request["CustomerMetadataProperties"]
    assert described["InferenceSpecification"] == request["InferenceSpecification"]
    assert "LastModifiedTime" in described

    sagemaker.update_model_package(
        ModelPackageArn=arn,
        CustomerMetadataProperties={"deployed": "no"},
        CustomerMetadataPropertiesToRemove=["validation:auc"],
    )
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["CustomerMetadataProperties"] == {
        "training_job": "mlops-train-1",
        "deployed": "no",
    }
    # An update without a status keeps the one a person set.
    assert described["ModelApprovalStatus"] == "Approved"


def test_invalid_approval_status_is_validation_exception(sagemaker):
    create_group(sagemaker, "bad-status-group")
    arn = sagemaker.create_model_package(**package_request("bad-status-group"))["ModelPackageArn"]
    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Maybe")
    assert error_of(excinfo)[:2] == (400, "ValidationException")


# --- rule 9: tags of a model package ----------------------------------------


def test_list_tags_of_a_model_package(sagemaker):
    create_group(sagemaker, "tag-group")
    tagged = sagemaker.create_model_package(
        **package_request("tag-group", Tags=[{"Key": "stage", "Value": "candidate"}])
    )["ModelPackageArn"]
    untagged = sagemaker.create_model_package(**package_request("tag-group"))["ModelPackageArn"]
    assert sagemaker.list_tags(ResourceArn=tagged)["Tags"] == [{"Key": "stage", "Value": "candidate"}]
    assert sagemaker.list_tags(ResourceArn=untagged)["Tags"] == []
    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_tags(ResourceArn=package_arn("tag-group", 9))
    assert error_of(excinfo)[:2] == (400, "ValidationException")
    # Group tags still work.
    assert sagemaker.list_tags(ResourceArn=group_arn("tag-group"))["Tags"] == [
        {"Key": "project", "Value": "churn"}
    ]


# --- rule 18: ModelLifeCycle -------------------------------------------------

STAGING = {"Stage": "staging", "StageStatus": "approved-for-staging", "StageDescription": "passed the gate: auc 0.91"}
PRODUCTION = {"Stage": "production", "StageStatus": "Deployed"}
LIFE_CYCLE_PATTERN = "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"


def life_cycle(sagemaker, arn: str):
    return sagemaker.describe_model_package(ModelPackageName=arn).get("ModelLifeCycle")


def test_life_cycle_set_on_update_kept_on_approval_then_replaced(sagemaker):
    create_group(sagemaker, "stage-group")
    request = package_request("stage-group")
    arn = sagemaker.create_model_package(**request)["ModelPackageArn"]
    assert life_cycle(sagemaker, arn) is None  # never set: not in the answer

    sagemaker.update_model_package(ModelPackageArn=arn, ModelLifeCycle=STAGING)
    assert life_cycle(sagemaker, arn) == STAGING

    # An approval alone keeps it (and, rule 8, the metadata).
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["ModelLifeCycle"] == STAGING
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["CustomerMetadataProperties"] == request["CustomerMetadataProperties"]

    # A second one replaces it whole: no StageDescription left over.
    sagemaker.update_model_package(ModelPackageArn=arn, ModelLifeCycle=PRODUCTION)
    assert life_cycle(sagemaker, arn) == PRODUCTION
    sagemaker.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="deployed"
    )
    assert life_cycle(sagemaker, arn) == PRODUCTION


def test_life_cycle_on_create_and_a_token_retry_changes_nothing(sagemaker):
    create_group(sagemaker, "stage-create")
    arn = sagemaker.create_model_package(
        **package_request("stage-create", ModelLifeCycle=STAGING, ClientToken="stage-1")
    )["ModelPackageArn"]
    assert life_cycle(sagemaker, arn) == STAGING
    again = sagemaker.create_model_package(
        **package_request("stage-create", ModelLifeCycle=PRODUCTION, ClientToken="stage-1")
    )["ModelPackageArn"]
    assert again == arn and life_cycle(sagemaker, arn) == STAGING
    other = sagemaker.create_model_package(**package_request("stage-create"))["ModelPackageArn"]
    assert life_cycle(sagemaker, other) is None


def test_life_cycle_in_approved_summaries_newest_first_one_per_page(sagemaker):
    group = "stage-list"
    create_group(sagemaker, group)
    first = sagemaker.create_model_package(
        **package_request(group, ModelApprovalStatus="Approved", ModelLifeCycle=STAGING)
    )["ModelPackageArn"]
    sagemaker.create_model_package(
        **package_request(group, ModelApprovalStatus="Rejected", ModelLifeCycle=STAGING)
    )
    plain = sagemaker.create_model_package(**package_request(group, ModelApprovalStatus="Approved"))[
        "ModelPackageArn"
    ]
    newest = sagemaker.create_model_package(**package_request(group))["ModelPackageArn"]
    sagemaker.update_model_package(
        ModelPackageArn=newest, ModelApprovalStatus="Approved", ModelLifeCycle=PRODUCTION
    )

    seen = [(s["ModelPackageArn"], s.get("ModelLifeCycle")) for s in approved_one_per_page(sagemaker, group)]
    assert seen == [(newest, PRODUCTION), (plain, None), (first, STAGING)]


def test_life_cycle_wire_format(shared_emulator):
    """What the Rust SDK parses: ModelLifeCycle in DescribeModelPackage and in
    ListModelPackages' summaries, absent (not null) when never set."""
    sagemaker = shared_emulator.client()
    create_group(sagemaker, "stage-wire")
    staged = sagemaker.create_model_package(**package_request("stage-wire", ModelLifeCycle=PRODUCTION))[
        "ModelPackageArn"
    ]
    plain = sagemaker.create_model_package(**package_request("stage-wire"))["ModelPackageArn"]
    bodies = {}

    def capture(http_response, model, **_):
        bodies[model.name] = json.loads(http_response.content)

    sagemaker.meta.events.register("after-call.sagemaker.*", capture)
    sagemaker.describe_model_package(ModelPackageName=staged)
    assert bodies["DescribeModelPackage"]["ModelLifeCycle"] == PRODUCTION
    sagemaker.describe_model_package(ModelPackageName=plain)
    assert "ModelLifeCycle" not in bodies["DescribeModelPackage"]
    sagemaker.list_model_packages(ModelPackageGroupName="stage-wire", SortBy="CreationTime")
    summaries = bodies["ListModelPackages"]["ModelPackageSummaryList"]
    assert [s.get("ModelLifeCycle", "absent") for s in summaries] == [PRODUCTION, "absent"]


@pytest.mark.parametrize(
    "value, message",
    [
        pytest.param(
            {"Stage": "bad stage", "StageStatus": "ok"},
            "1 validation error detected: Value 'bad stage' at 'modelLifeCycle.stage' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {LIFE_CYCLE_PATTERN}",
            id="stage-pattern",
        ),
        pytest.param(
            {"Stage": "staging", "StageStatus": "approved-"},
            "1 validation error detected: Value 'approved-' at 'modelLifeCycle.stageStatus' failed to "
            f"satisfy constraint: Member must satisfy regular expression pattern: {LIFE_CYCLE_PATTERN}",
            id="status-trailing-hyphen",
        ),
        pytest.param(
            {"Stage": "s" * 64, "StageStatus": "ok"},
            f"2 validation errors detected: Value '{'s' * 64}' at 'modelLifeCycle.stage' failed to satisfy "
            "constraint: Member must have length less than or equal to 63; "
            f"Value '{'s' * 64}' at 'modelLifeCycle.stage' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {LIFE_CYCLE_PATTERN}",
            id="stage-too-long",
        ),
        pytest.param(
            {"Stage": "staging"},
            "1 validation error detected: Value null at 'modelLifeCycle.stageStatus' failed to satisfy "
            "constraint: Member must not be null",
            id="status-missing",
        ),
        pytest.param(
            {"Stage": "", "StageStatus": "ok"},
            "2 validation errors detected: Value '' at 'modelLifeCycle.stage' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1; Value '' at 'modelLifeCycle.stage' failed "
            f"to satisfy constraint: Member must satisfy regular expression pattern: {LIFE_CYCLE_PATTERN}",
            id="stage-empty",
        ),
        pytest.param(
            {"Stage": "staging", "StageStatus": "ok", "StageDescription": "d" * 1025},
            f"2 validation errors detected: Value '{'d' * 1025}' at 'modelLifeCycle.stageDescription' failed "
            "to satisfy constraint: Member must have length less than or equal to 1024; "
            f"Value '{'d' * 1025}' at 'modelLifeCycle.stageDescription' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: .{0,1024}",
            id="description-too-long",
        ),
        pytest.param(
            # AWS matches patterns as Java does: "." is no line break.
            {"Stage": "staging", "StageStatus": "ok", "StageDescription": "two\nlines"},
            "1 validation error detected: Value 'two\nlines' at 'modelLifeCycle.stageDescription' failed "
            "to satisfy constraint: Member must satisfy regular expression pattern: .{0,1024}",
            id="description-line-break",
        ),
        pytest.param(
            {"Stage": "staging", "StageStatus": 1},
            "ModelLifeCycle must be an object whose Stage, StageStatus and StageDescription are strings.",
            id="status-not-a-string",
        ),
    ],
)
def test_bad_life_cycle_is_refused_and_changes_nothing(shared_emulator, value, message):
    # boto3 would refuse some of these itself; the Rust SDK checks none of them.
    # (A ModelLifeCycle that is not an object never gets this far: moto's own
    # request parser fails with HTTP 500, where SageMaker says SerializationException.)
    sagemaker = shared_emulator.client(validate=False)
    group = "stage-bad"
    try:
        create_group(sagemaker, group)
        sagemaker.create_model_package(**package_request(group, ModelLifeCycle=STAGING))
    except ClientError:
        pass  # rule 6: an earlier case made both
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_model_package(**package_request(group, ModelLifeCycle=value))
    assert error_of(excinfo) == (400, "ValidationException", message)
    assert versions(sagemaker, group) == [1]

    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_model_package(
            ModelPackageArn=package_arn(group, 1), ModelApprovalStatus="Approved", ModelLifeCycle=value
        )
    assert error_of(excinfo) == (400, "ValidationException", message)
    described = sagemaker.describe_model_package(ModelPackageName=package_arn(group, 1))
    assert described["ModelLifeCycle"] == STAGING
    assert described["ModelApprovalStatus"] == "PendingManualApproval"
