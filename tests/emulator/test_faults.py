"""faults.py: the call log (GET/DELETE /_emulator/calls) and fault injection
(/_emulator/faults), with the error bodies each protocol's clients parse.

One emulator for the module; every test starts by clearing calls and faults.
The boto3 clients here make exactly one attempt per call (harness's
``retries={"max_attempts": 1}`` is one *retry*), so each injected failure
reaches the test.
"""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, ROLE, error_of, training_job_request


@pytest.fixture
def emulator(shared_emulator):
    for path in ("calls", "faults"):
        assert shared_emulator.control(path, None, method="DELETE")[0] == 200
    return shared_emulator


def client(emulator, service: str = "sagemaker", **retries):
    return emulator.client(service, retries=retries or {"total_max_attempts": 1})


def calls(emulator) -> list[tuple[str, str]]:
    status, answer = emulator.control("calls", None, method="GET")
    assert status == 200
    return [(call["service"], call["operation"]) for call in answer["calls"]]


def raw_calls(emulator) -> list[dict]:
    return emulator.control("calls", None, method="GET")[1]["calls"]


def inject(emulator, **fault) -> dict:
    status, answer = emulator.control("faults", fault)
    assert status == 200, answer
    return answer


def test_every_call_is_recorded_in_order_by_service_and_operation(emulator):
    sagemaker = client(emulator)
    s3 = client(emulator, "s3")
    events = client(emulator, "events")
    sqs = client(emulator, "sqs")
    autoscaling = client(emulator, "application-autoscaling")
    sns = client(emulator, "sns")  # query protocol: Action= in the form body

    sagemaker.list_training_jobs()
    s3.create_bucket(Bucket="calls-bucket")
    s3.put_object(Bucket="calls-bucket", Key="a/b c.json", Body=b"{}")
    s3.head_object(Bucket="calls-bucket", Key="a/b c.json")
    s3.get_object(Bucket="calls-bucket", Key="a/b c.json")["Body"].read()
    s3.list_objects_v2(Bucket="calls-bucket")
    s3.put_bucket_notification_configuration(
        Bucket="calls-bucket", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    s3.delete_object(Bucket="calls-bucket", Key="a/b c.json")
    events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}])
    queue_url = sqs.create_queue(QueueName="calls-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="x")
    autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")
    topic = sns.create_topic(Name="calls-topic")["TopicArn"]
    assert topic.endswith(":calls-topic")  # moto still read the body

    assert calls(emulator) == [
        ("sagemaker", "ListTrainingJobs"),
        ("s3", "CreateBucket"),
        ("s3", "PutObject"),
        ("s3", "HeadObject"),
        ("s3", "GetObject"),
        ("s3", "ListObjectsV2"),
        ("s3", "PutBucketNotificationConfiguration"),
        ("s3", "DeleteObject"),
        ("events", "PutEvents"),
        ("sqs", "CreateQueue"),
        ("sqs", "SendMessage"),
        ("application-autoscaling", "DescribeScalableTargets"),
        ("sns", "CreateTopic"),
    ]
    recorded = raw_calls(emulator)
    assert all(call["fault"] is False for call in recorded)
    assert [call["status"] for call in recorded][:3] == [200, 200, 200]
    assert recorded[7]["status"] == 204  # DeleteObject

    # The control API itself is not an AWS call; DELETE forgets the log.
    assert emulator.control("calls", None, method="DELETE") == (200, {"calls": []})
    assert calls(emulator) == []
    sagemaker.list_endpoints()
    assert calls(emulator) == [("sagemaker", "ListEndpoints")]


def test_sagemaker_throttling_fails_count_calls_with_the_json_error(emulator):
    sagemaker = client(emulator)
    answer = inject(
        emulator,
        operation="CreateTrainingJob",
        status=400,
        code="ThrottlingException",
        message="Rate exceeded",
        count=2,
    )
    assert answer["faults"][0]["remaining"] == 2

    request = training_job_request("faulted-job")
    for _ in range(2):
        with pytest.raises(ClientError) as excinfo:
            sagemaker.create_training_job(**request)
        assert error_of(excinfo) == (400, "ThrottlingException", "Rate exceeded")
        headers = excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["x-amzn-errortype"] == "ThrottlingException"
        assert headers["content-type"] == "application/x-amz-json-1.1"
        assert headers["x-amzn-requestid"]
    # Other operations were never affected, and the job was not created by a faulted call.
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
    # The fault is used up: the third call reaches moto.
    assert emulator.control("faults", None, method="GET") == (200, {"faults": []})
    sagemaker.create_training_job(**request)
    assert len(sagemaker.list_training_jobs()["TrainingJobSummaries"]) == 1

    recorded = raw_calls(emulator)
    assert [(c["operation"], c["status"], c["fault"]) for c in recorded] == [
        ("CreateTrainingJob", 400, True),
        ("CreateTrainingJob", 400, True),
        ("ListTrainingJobs", 200, False),
        ("CreateTrainingJob", 200, False),
        ("ListTrainingJobs", 200, False),
    ]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"status": 500}, (500, "InternalFailure", "We encountered an internal error. Please try again.")),
        ({"status": 503}, (503, "ServiceUnavailable", "We encountered an internal error. Please try again.")),
        ({"code": "InternalFailure"}, (500, "InternalFailure", "We encountered an internal error. Please try again.")),
        ({"status": 503, "code": "ServiceUnavailable", "message": "down"}, (503, "ServiceUnavailable", "down")),
        ({}, (400, "ThrottlingException", "Rate exceeded")),
    ],
)
def test_defaults_follow_the_status_or_the_code(emulator, fault, expected):
    inject(emulator, operation="DescribeEndpoint", count=1, **fault)
    with pytest.raises(ClientError) as excinfo:
        client(emulator).describe_endpoint(EndpointName="x")
    assert error_of(excinfo) == expected


def test_s3_faults_are_s3_xml_errors(emulator):
    s3 = client(emulator, "s3")
    s3.create_bucket(Bucket="faulted-bucket")
    s3.put_object(Bucket="faulted-bucket", Key="k", Body=b"v")
    inject(emulator, service="s3", operation="GetObject", status=503, code="SlowDown",
           message="Please reduce your request rate.", count=1)
    inject(emulator, operation="HeadObject", status=500, count=1)

    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket="faulted-bucket", Key="k")
    assert error_of(excinfo) == (503, "SlowDown", "Please reduce your request rate.")
    headers = excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "application/xml"
    assert excinfo.value.response["ResponseMetadata"]["RequestId"]

    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket="faulted-bucket", Key="k")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500

    assert s3.get_object(Bucket="faulted-bucket", Key="k")["Body"].read() == b"v"


def test_s3_error_body_is_the_xml_s3_sends(emulator):
    import urllib.request

    inject(emulator, operation="GetObject", status=500, count=1)
    # An unsigned request is still S3 (no X-Amz-Target, no Action).
    request = urllib.request.Request(f"{emulator.endpoint_url}/some-bucket/some-key?x-id=GetObject")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)
    body = excinfo.value.read().decode()
    assert excinfo.value.code == 500
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>')
    assert "<Message>We encountered an internal error. Please try again.</Message>" in body


def test_events_sqs_and_query_protocol_errors(emulator):
    events = client(emulator, "events")
    sqs = client(emulator, "sqs")
    sns = client(emulator, "sns")
    inject(emulator, operation="PutEvents", status=400, code="ThrottlingException", count=1)
    inject(emulator, service="sqs", status=503, code="ServiceUnavailable", count=1)
    inject(emulator, operation="CreateTopic", status=400, code="Throttling", message="slow", count=1)

    with pytest.raises(ClientError) as excinfo:
        events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}])
    assert error_of(excinfo) == (400, "ThrottlingException", "Rate exceeded")

    with pytest.raises(ClientError) as excinfo:
        sqs.list_queues()
    assert error_of(excinfo)[:2] == (503, "ServiceUnavailable")
    headers = excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-query-error"] == "ServiceUnavailable;Receiver"

    with pytest.raises(ClientError) as excinfo:
        sns.create_topic(Name="faulted-topic")
    assert error_of(excinfo) == (400, "Throttling", "slow")
    assert excinfo.value.response["Error"]["Type"] == "Sender"

    assert sns.create_topic(Name="faulted-topic")["TopicArn"].endswith(":faulted-topic")
    assert [(c["service"], c["operation"], c["fault"]) for c in raw_calls(emulator)] == [
        ("events", "PutEvents", True),
        ("sqs", "ListQueues", True),
        ("sns", "CreateTopic", True),
        ("sns", "CreateTopic", False),
    ]


def test_skip_unlimited_and_clear(emulator):
    sagemaker = client(emulator)
    inject(emulator, operation="ListModels", skip=1)  # no count: until cleared
    sagemaker.list_models()  # skipped: goes through
    for _ in range(3):
        with pytest.raises(ClientError):
            sagemaker.list_models()
    status, answer = emulator.control("faults", None, method="GET")
    assert answer["faults"] == [{"operation": "ListModels", "remaining": None, "skip": 0}]
    assert emulator.control("faults", None, method="DELETE") == (200, {"faults": []})
    sagemaker.list_models()
    assert [c["fault"] for c in raw_calls(emulator)] == [False, True, True, True, False]


def test_sdk_standard_retries_ride_out_a_short_fault(emulator):
    # What the project's handlers rely on: throttling and 5xx are retried.
    sagemaker = client(emulator, mode="standard", total_max_attempts=3)
    inject(emulator, operation="ListEndpoints", status=400, code="ThrottlingException", count=1)
    inject(emulator, operation="ListEndpoints", status=503, count=1)
    sagemaker.list_endpoints()
    assert [(c["operation"], c["status"]) for c in raw_calls(emulator)] == [
        ("ListEndpoints", 400),
        ("ListEndpoints", 503),
        ("ListEndpoints", 200),
    ]


@pytest.mark.parametrize(
    "body, message",
    [
        pytest.param([], "body: [] is not of type 'object'", id="body-not-object"),
        pytest.param(None, "body: None is not of type 'object'", id="no-body"),
        pytest.param(
            {},
            "body: {} is not valid under any of the given schemas "
            "('operation' is a required property; or 'service' is a required property)",
            id="neither-operation-nor-service",
        ),
        pytest.param({"status": 500}, "body: {'status': 500} is not valid", id="status-alone"),
        pytest.param({"operation": ""}, "operation: '' should be non-empty", id="operation-empty"),
        pytest.param({"operation": None}, "operation: None is not of type 'string'", id="operation-null"),
        pytest.param({"service": 3}, "service: 3 is not of type 'string'", id="service-not-string"),
        pytest.param({"operation": "X", "code": ""}, "code: '' should be non-empty", id="code-empty"),
        pytest.param({"operation": "X", "message": 1}, "message: 1 is not of type 'string'", id="message-not-string"),
        pytest.param({"operation": "X", "status": 200}, "status: 200 is less than the minimum of 400", id="status-low"),
        pytest.param({"operation": "X", "status": 600}, "status: 600 is greater than the maximum of 599", id="status-high"),
        pytest.param({"operation": "X", "status": "500"}, "status: '500' is not of type", id="status-string"),
        pytest.param({"operation": "X", "status": 500.0}, "status: 500.0 is not of type", id="status-float"),
        pytest.param({"operation": "X", "count": 0}, "count: 0 is less than the minimum of 1", id="count-zero"),
        pytest.param({"operation": "X", "count": True}, "count: True is not of type", id="count-boolean"),
        pytest.param({"operation": "X", "skip": -1}, "skip: -1 is less than the minimum of 0", id="skip-negative"),
        pytest.param({"operation": "X", "after": "yes"}, "after: 'yes' is not of type 'boolean'", id="after-string"),
        pytest.param({"operation": "X", "after": None}, "after: None is not of type 'boolean'", id="after-null"),
        pytest.param(
            {"operation": "X", "colour": "red"},
            "body: Additional properties are not allowed ('colour' was unexpected)",
            id="unknown-key",
        ),
        pytest.param(b"not json", "Expecting value", id="not-json"),
        pytest.param({"operation": "X", "rate": 0}, "rate: 0 is less than or equal to the minimum of 0", id="rate-zero"),
        pytest.param({"operation": "X", "rate": -1}, "rate: -1 is less than or equal to the minimum of 0", id="rate-negative"),
        pytest.param({"operation": "X", "rate": "10"}, "rate: '10' is not of type 'number'", id="rate-string"),
        pytest.param({"operation": "X", "rate": 1e7}, "rate: 10000000.0 is greater than the maximum of 1000000", id="rate-huge"),
        pytest.param(b'{"operation": "X", "rate": NaN}', "NaN is not a JSON number", id="rate-nan"),
        pytest.param({"operation": "X", "burst": 5}, "body: 'rate' is a dependency of 'burst'", id="burst-alone"),
        pytest.param({"operation": "X", "rate": 1, "burst": 0}, "burst: 0 is less than the minimum of 1", id="burst-zero"),
        pytest.param({"operation": "X", "rate": 1, "burst": 1.5}, "burst: 1.5 is not of type 'integer'", id="burst-float"),
        pytest.param(
            {"operation": "X", "rate": 1, "after": True},
            "after: a rate fault refuses a call before the service acts; it cannot be after",
            id="rate-after",
        ),
    ],
)
def test_bad_fault_bodies_are_refused(emulator, body, message):
    # Checked against faults.FAULT_BODY; the message names the field.
    status, answer = emulator.control("faults", body)
    assert status == 400
    assert answer["Code"] == "BadRequest"
    assert answer["Message"].startswith(message), answer
    assert emulator.control("faults", None, method="GET") == (200, {"faults": []})


# --- rate faults and each service's throttling error ---------------------------


def test_a_rate_fault_fails_only_the_calls_beyond_the_rate(emulator):
    sagemaker = client(emulator)
    answer = inject(emulator, service="sagemaker", operation="ListModels", rate=10)
    assert answer["faults"] == [
        {"operation": "ListModels", "service": "sagemaker", "remaining": None, "skip": 0, "rate": 10, "burst": 10}
    ]
    passed = throttled = 0
    started = time.monotonic()
    for _ in range(30):
        try:
            sagemaker.list_models()
            passed += 1
        except ClientError as error:
            assert (error.response["Error"]["Code"], error.response["Error"]["Message"]) == ("ThrottlingException", "Rate exceeded")
            throttled += 1
    elapsed = time.monotonic() - started
    # A full bucket of 10, then 10 a second.
    assert 10 <= passed <= 10 + 10 * elapsed + 1, (passed, elapsed)
    assert throttled == 30 - passed > 0
    sagemaker.list_endpoints()  # another operation: not limited
    recorded = raw_calls(emulator)
    assert [c["fault"] for c in recorded[:10]] == [False] * 10
    assert sum(c["fault"] for c in recorded) == throttled
    assert {c["status"] for c in recorded if c["fault"]} == {400}


def test_a_rate_fault_refills_and_counts_only_failures(emulator):
    sagemaker = client(emulator)
    inject(emulator, operation="ListModels", rate=5, burst=1, count=2)
    sagemaker.list_models()  # the one token
    with pytest.raises(ClientError):
        sagemaker.list_models()
    time.sleep(0.25)  # a token every 0.2 s
    sagemaker.list_models()
    with pytest.raises(ClientError):
        sagemaker.list_models()
    # Two calls failed: the fault is used up.
    assert emulator.control("faults", None, method="GET") == (200, {"faults": []})
    sagemaker.list_models()
    assert [c["fault"] for c in raw_calls(emulator)] == [False, True, False, True, False]


@pytest.mark.parametrize(
    ("service", "call", "expected"),
    [
        ("sagemaker", lambda c: c.list_models(), (400, "ThrottlingException", "Rate exceeded")),
        ("events", lambda c: c.list_event_buses(), (400, "ThrottlingException", "Rate exceeded")),
        ("s3", lambda c: c.list_buckets(), (503, "SlowDown", "Please reduce your request rate.")),
        ("sqs", lambda c: c.list_queues(), (400, "RequestThrottled", "Rate exceeded")),
        ("sns", lambda c: c.list_topics(), (400, "Throttling", "Rate exceeded")),
        ("scheduler", lambda c: c.list_schedules(), (429, "ThrottlingException", "Rate exceeded")),
    ],
)
def test_each_service_throttles_with_its_own_error(emulator, service, call, expected):
    aws = client(emulator, service)
    inject(emulator, service=service, rate=0.001, burst=1)
    call(aws)  # the bucket's one token
    with pytest.raises(ClientError) as excinfo:
        call(aws)
    assert error_of(excinfo) == expected
    # The same error for a plain fault without status or code; a code alone takes its status.
    emulator.control("faults", None, method="DELETE")
    inject(emulator, service=service, count=1)
    with pytest.raises(ClientError) as excinfo:
        call(aws)
    assert error_of(excinfo) == expected
    inject(emulator, service=service, code=expected[1], count=1)
    with pytest.raises(ClientError) as excinfo:
        call(aws)
    assert error_of(excinfo) == expected


def test_scheduler_throttling_is_the_rest_json_error_the_sdks_retry(emulator):
    import urllib.request

    inject(emulator, service="scheduler", rate=0.001, burst=1)
    # The answer itself: 429, x-amzn-ErrorType, {"Message"} (any signature: it never reaches moto).
    credential = "Credential=test/20300101/us-east-1/scheduler/aws4_request"
    signed = {"Authorization": f"AWS4-HMAC-SHA256 {credential}, SignedHeaders=host, Signature=0"}
    responses = []
    for _ in range(2):
        request = urllib.request.Request(f"{emulator.endpoint_url}/schedules?NamePrefix=x&ScheduleGroup=g", headers=signed)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                responses.append((response.status, None, None))
        except urllib.error.HTTPError as error:
            responses.append((error.code, error.headers["x-amzn-ErrorType"], json.loads(error.read())))
    assert responses[1] == (429, "ThrottlingException", {"Message": "Rate exceeded"})
    assert raw_calls(emulator)[1]["operation"] == "ListSchedules"

    # botocore reads it as ThrottlingException and its standard retries ride it out.
    emulator.control("faults", None, method="DELETE")
    emulator.control("calls", None, method="DELETE")
    inject(emulator, service="scheduler", operation="GetSchedule", count=2)
    scheduler = client(emulator, "scheduler", mode="standard", total_max_attempts=3)
    with pytest.raises(ClientError) as excinfo:
        scheduler.get_schedule(Name="no-such-schedule")
    assert error_of(excinfo)[:2] == (404, "ResourceNotFoundException")  # the third attempt reached moto
    assert [(c["operation"], c["status"], c["fault"]) for c in raw_calls(emulator)] == [
        ("GetSchedule", 429, True),
        ("GetSchedule", 429, True),
        ("GetSchedule", 404, False),
    ]


def test_scheduler_calls_are_named_as_its_api_model_routes_them(emulator):
    scheduler = client(emulator, "scheduler")
    definition = dict(
        ScheduleExpression="at(2031-01-01T00:00:00)",
        Target={"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q", "RoleArn": ROLE},
        FlexibleTimeWindow={"Mode": "OFF"},
    )
    group_arn = scheduler.create_schedule_group(Name="calls-group")["ScheduleGroupArn"]
    scheduler.get_schedule_group(Name="calls-group")
    scheduler.list_schedule_groups()
    scheduler.create_schedule(Name="calls-schedule", GroupName="calls-group", **definition)
    scheduler.get_schedule(Name="calls-schedule", GroupName="calls-group")
    scheduler.update_schedule(Name="calls-schedule", GroupName="calls-group", **definition)
    scheduler.list_schedules(GroupName="calls-group", NamePrefix="calls-")
    scheduler.tag_resource(ResourceArn=group_arn, Tags=[{"Key": "k", "Value": "v"}])
    scheduler.list_tags_for_resource(ResourceArn=group_arn)
    scheduler.untag_resource(ResourceArn=group_arn, TagKeys=["k"])
    scheduler.delete_schedule(Name="calls-schedule", GroupName="calls-group")
    scheduler.delete_schedule_group(Name="calls-group")
    assert calls(emulator) == [
        ("scheduler", operation)
        for operation in (
            "CreateScheduleGroup",
            "GetScheduleGroup",
            "ListScheduleGroups",
            "CreateSchedule",
            "GetSchedule",
            "UpdateSchedule",
            "ListSchedules",
            "TagResource",
            "ListTagsForResource",
            "UntagResource",
            "DeleteSchedule",
            "DeleteScheduleGroup",
        )
    ]


def test_every_scheduler_operation_of_the_api_model_is_named():
    # faults.describe against botocore's model of the service: method and path of each operation.
    import botocore.session

    import faults

    model = botocore.session.get_session().get_service_model("scheduler")
    authorization = "AWS4-HMAC-SHA256 Credential=test/20300101/us-east-1/scheduler/aws4_request, SignedHeaders=host"
    for operation in model.operation_names:
        http = model.operation_model(operation).http
        path = http["requestUri"].replace("{Name}", "some-name")
        path = path.replace("{ResourceArn}", f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/x")
        environ = {"REQUEST_METHOD": http["method"], "PATH_INFO": path, "QUERY_STRING": "", "HTTP_AUTHORIZATION": authorization}
        assert faults.describe(environ) == ("scheduler", operation, "rest"), operation


def test_other_methods_are_refused(emulator):
    assert emulator.control("calls", {}, method="POST")[0] == 405
    assert emulator.control("faults", {}, method="PUT")[0] == 405


def test_after_loses_the_answer_of_a_call_that_did_its_work(emulator):
    sagemaker = client(emulator)
    inject(emulator, operation="CreateTrainingJob", status=500, after=True, count=1)
    request = training_job_request("lost-answer-job")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_training_job(**request)
    assert error_of(excinfo)[:2] == (500, "InternalFailure")
    # The job exists: a retry of the same name is refused.
    names = [j["TrainingJobName"] for j in sagemaker.list_training_jobs()["TrainingJobSummaries"]]
    assert names.count("lost-answer-job") == 1
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_training_job(**request)
    assert error_of(excinfo)[1] == "ResourceInUse"
    assert [(c["operation"], c["status"], c["fault"]) for c in raw_calls(emulator)][0] == (
        "CreateTrainingJob",
        500,
        True,
    )
    assert emulator.control("faults", {"operation": "X", "after": "yes"})[0] == 400


# --- control.py: StatusAfterUpdate ------------------------------------------


def endpoint_with_two_configs(sagemaker, name: str) -> None:
    sagemaker.create_model(
        ModelName=f"{name}-model",
        PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/inference:1"},
        ExecutionRoleArn=ROLE,
    )
    for config in ("a", "b", "c"):
        sagemaker.create_endpoint_config(
            EndpointConfigName=f"{name}-{config}",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"{name}-model",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ],
        )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-a")


def test_updates_can_stay_in_progress_as_in_sagemaker(emulator):
    sagemaker = client(emulator)
    endpoint_with_two_configs(sagemaker, "slow")
    path = "sagemaker/endpoints/slow"
    status, state = emulator.control(path, {"StatusAfterUpdate": "Updating"})
    assert status == 200
    assert (state["EndpointStatus"], state["StatusAfterUpdate"]) == ("InService", "Updating")

    sagemaker.update_endpoint(EndpointName="slow", EndpointConfigName="slow-b")
    described = sagemaker.describe_endpoint(EndpointName="slow")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("Updating", "slow-b")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_endpoint(EndpointName="slow", EndpointConfigName="slow-c")
    assert error_of(excinfo)[1] == "ValidationException"
    assert "Cannot update in-progress endpoint" in error_of(excinfo)[2]

    # The deployment finishes when the test says so; the next one stays in progress too.
    emulator.control(path, {"EndpointStatus": "InService"})
    sagemaker.update_endpoint(EndpointName="slow", EndpointConfigName="slow-c")
    status, state = emulator.control(path, None, method="GET")
    assert (state["EndpointStatus"], state["UpdateCount"], state["StatusAfterUpdate"]) == (
        "Updating",
        2,
        "Updating",
    )
    # Back to the default: updates complete at once, and the key leaves the answer.
    emulator.control(path, {"StatusAfterUpdate": "InService", "EndpointStatus": "InService"})
    sagemaker.update_endpoint(EndpointName="slow", EndpointConfigName="slow-b")
    status, state = emulator.control(path, None, method="GET")
    assert state["EndpointStatus"] == "InService" and "StatusAfterUpdate" not in state
    assert emulator.control(path, {"StatusAfterUpdate": "Creating"})[0] == 400


def test_of_concurrent_updates_exactly_one_succeeds(emulator):
    from concurrent.futures import ThreadPoolExecutor

    sagemaker = client(emulator)
    endpoint_with_two_configs(sagemaker, "race")
    emulator.control("sagemaker/endpoints/race", {"StatusAfterUpdate": "Updating"})

    def update(config: str) -> str:
        try:
            sagemaker.update_endpoint(EndpointName="race", EndpointConfigName=config)
            return "updated"
        except ClientError as error:
            return error.response["Error"]["Code"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(update, ["race-b", "race-c"] * 4))
    assert sorted(answers) == ["ValidationException"] * 7 + ["updated"]
    assert emulator.control("sagemaker/endpoints/race", None, method="GET")[1]["UpdateCount"] == 1
