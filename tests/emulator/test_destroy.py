"""scripts/destroy.py (`make destroy`) against the emulator.

Three pipelines' runtime resources, as the functions create them (names from
shared/src/names.rs, the mlops:pipeline tag from shared/src/tags.rs): "alpha",
"alpha-2" (whose names start with "alpha-", not "alpha--") and "pre-alpha"
(whose names contain "alpha--"), plus look-alikes with alpha's prefix that
are not alpha's: untagged, or tagged for alpha-2. Tearing down alpha removes
exactly alpha's, in order, reports the look-alikes as left, and a second run
finds nothing. Also: --dry-run changes nothing, the confirmation prompt, a
busy endpoint (waited for, or reported), failures reported with a non-zero
exit, an incomplete listing deleting nothing, --stop-training-jobs.

Uses sagemaker_rules rules 19-23 (DeleteModelPackage, DeleteModelPackageGroup,
version numbers, StopTrainingJob, DeleteEndpoint of a Creating endpoint).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from harness import ACCOUNT, REGION, ROLE

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "destroy.py"
sys.path.insert(0, str(SCRIPT.parent))
import destroy  # noqa: E402

IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn:1"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:retrain"


def tag(pipeline: str | None) -> list[dict[str, str]]:
    return [] if pipeline is None else [{"Key": "mlops:pipeline", "Value": pipeline}]


def variant(endpoint: str) -> str:
    return f"endpoint/{endpoint}/variant/AllTraffic"


class Account:
    """The emulator's clients, and what the pipelines made in it."""

    def __init__(self, emulator) -> None:
        self.emulator = emulator
        self.sagemaker = emulator.client()
        self.scheduler = emulator.client("scheduler")
        self.autoscaling = emulator.client("application-autoscaling")

    # --- making resources as the functions do ---------------------------------

    def group(self, name: str, pipeline: str | None, versions: int) -> None:
        self.sagemaker.create_model_package_group(ModelPackageGroupName=name, Tags=tag(pipeline))
        for number in range(versions):
            self.sagemaker.create_model_package(
                ModelPackageGroupName=name,
                InferenceSpecification={
                    "Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://artifacts/{name}/{number}/model.tar.gz"}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
                ModelApprovalStatus="Approved" if number == 0 else "PendingManualApproval",
            )

    def model(self, name: str, pipeline: str | None) -> None:
        self.sagemaker.create_model(
            ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE}, Tags=tag(pipeline)
        )

    def config(self, name: str, model: str, pipeline: str | None) -> None:
        self.sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {"VariantName": "AllTraffic", "ModelName": model, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
            ],
            Tags=tag(pipeline),
        )

    def endpoint(self, name: str, config: str, pipeline: str | None) -> None:
        self.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config, Tags=tag(pipeline))

    def scaling(self, endpoint: str, policy: str | None) -> None:
        self.autoscaling.register_scalable_target(
            ServiceNamespace="sagemaker", ResourceId=variant(endpoint), ScalableDimension=DIMENSION,
            MinCapacity=1, MaxCapacity=4,
        )
        if policy:
            self.autoscaling.put_scaling_policy(
                PolicyName=policy, ServiceNamespace="sagemaker", ResourceId=variant(endpoint),
                ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={
                    "TargetValue": 70.0,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                    "ScaleInCooldown": 300,
                    "ScaleOutCooldown": 60,
                },
            )

    def schedules(self, group: str, pipeline: str | None, names: list[str]) -> None:
        self.scheduler.create_schedule_group(Name=group, Tags=tag(pipeline))
        for name in names:
            self.scheduler.create_schedule(
                GroupName=group, Name=name, ScheduleExpression="at(2031-01-01T00:00:00)",
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={"Arn": QUEUE, "RoleArn": ROLE, "Input": "{}"},
                ActionAfterCompletion="NONE",
            )

    def training_job(self, name: str, pipeline: str | None, status: str) -> None:
        self.sagemaker.create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            RoleArn=ROLE,
            OutputDataConfig={"S3OutputPath": "s3://artifacts/models/"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
            Tags=tag(pipeline),
        )
        if status != "Completed":
            assert self.emulator.control(f"sagemaker/training-jobs/{name}", {"TrainingJobStatus": status})[0] == 200

    def set_endpoint_status(self, name: str, status: str) -> None:
        assert self.emulator.control(f"sagemaker/endpoints/{name}", {"EndpointStatus": status})[0] == 200

    def pipeline(self, p: str) -> None:
        """One pipeline's runtime resources: two versions registered, each
        deployed (model + config), production on v2 with autoscaling, staging
        on v2, a burst's schedules, one job running and one finished."""
        self.group(f"{p}--models", p, versions=2)
        for v in (1, 2):
            self.model(f"{p}--model-{p}-models-v{v}-0123456789abcdef", p)
            for endpoint in ("endpoint", "staging-endpoint"):
                self.config(f"{p}--epc-{p}-{endpoint}-v{v}-0123456789abcdef", f"{p}--model-{p}-models-v{v}-0123456789abcdef", p)
        for endpoint in ("endpoint", "staging-endpoint"):
            self.endpoint(f"{p}--{endpoint}", f"{p}--epc-{p}-{endpoint}-v2-0123456789abcdef", p)
        self.scaling(f"{p}--endpoint", f"{p}--invocations-per-instance")
        self.schedules(f"{p}-retraining", p, ["0123456789abcdef-20310101-0000", "0123456789abcdef-20310101-0005"])
        self.training_job(f"{p}--ecr-churn-0123456789abcdef", p, "InProgress")
        self.training_job(f"{p}--s3-20310101-0000-0123456789abcdef", p, "Completed")

    # --- what there is ------------------------------------------------------------

    def inventory(self) -> dict[str, set[str]]:
        sm = self.sagemaker
        found: dict[str, set[str]] = {
            "endpoints": {e["EndpointName"] for e in sm.list_endpoints(MaxResults=100)["Endpoints"]},
            "configs": {c["EndpointConfigName"] for c in sm.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]},
            "models": {m["ModelName"] for m in sm.list_models(MaxResults=100)["Models"]},
            "groups": {
                g["ModelPackageGroupName"]
                for g in sm.list_model_package_groups(MaxResults=100)["ModelPackageGroupSummaryList"]
            },
            "targets": {
                t["ResourceId"]
                for t in self.autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
            },
            "policies": {
                f"{p['PolicyName']} on {p['ResourceId']}"
                for p in self.autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
            },
            "jobs": {
                f"{j['TrainingJobName']} {j['TrainingJobStatus']}"
                for j in sm.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]
            },
        }
        found["versions"] = {
            f"{group}/{v['ModelPackageVersion']}"
            for group in found["groups"]
            for v in sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
        }
        groups = [g["Name"] for g in self.scheduler.list_schedule_groups()["ScheduleGroups"]]
        found["schedules"] = {
            f"{group}/{s['Name']}" for group in groups for s in self.scheduler.list_schedules(GroupName=group)["Schedules"]
        }
        return found

    def calls(self) -> list[str]:
        status, answer = self.emulator.request("GET", "/_emulator/calls")
        assert status == 200
        return [call["operation"] for call in answer["calls"]]

    def forget_calls(self) -> None:
        assert self.emulator.request("DELETE", "/_emulator/calls")[0] == 200

    def fault(self, operation: str, **fault) -> None:
        body = {"operation": operation, "status": 400, "code": "AccessDeniedException",
                "message": f"not allowed to {operation}", **fault}
        assert self.emulator.request("POST", "/_emulator/faults", body)[0] == 200


# --- the account of most tests ---------------------------------------------------

# alpha's: every kind, plus a custom-named endpoint and model package group, an
# orphan scalable target (its endpoint deleted without deregistering) holding
# alpha's policy.
ALPHA = {
    "endpoints": {"alpha--endpoint", "alpha--staging-endpoint", "custom-serving"},
    "configs": {f"alpha--epc-alpha-{e}-v{v}-0123456789abcdef" for e in ("endpoint", "staging-endpoint") for v in (1, 2)},
    "models": {f"alpha--model-alpha-models-v{v}-0123456789abcdef" for v in (1, 2)},
    "groups": {"alpha--models", "team-registry"},
    "versions": {"alpha--models/1", "alpha--models/2", "team-registry/1"},
    "targets": {variant("alpha--endpoint"), variant("alpha--gone")},
    "policies": {
        f"alpha--invocations-per-instance on {variant('alpha--endpoint')}",
        f"alpha--invocations-per-instance on {variant('alpha--gone')}",
    },
    "schedules": {"alpha-retraining/0123456789abcdef-20310101-0000", "alpha-retraining/0123456789abcdef-20310101-0005"},
}
TOTAL = sum(len(names) for names in ALPHA.values())
# With alpha's prefix (or its custom names) but not alpha's: left, and reported.
NOT_OURS = {
    "alpha--model-untagged": "no mlops:pipeline tag",
    "alpha--epc-of-alpha-2": "tagged mlops:pipeline=alpha-2",
    "alpha--endpoint-of-alpha-2": "tagged mlops:pipeline=alpha-2",
    "alpha--registry-untagged": "no mlops:pipeline tag",
    variant("alpha--gone-unknown"): "its endpoint is gone and it has no policy of this pipeline",
    variant("alpha--endpoint-of-alpha-2"): "endpoint alpha--endpoint-of-alpha-2 is not ours",
}


@pytest.fixture
def account(emulator, monkeypatch) -> Account:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setattr(destroy, "POLL_SECONDS", 0.1)
    a = Account(emulator)
    for p in ("alpha", "alpha-2", "pre-alpha"):
        a.pipeline(p)
    # alpha's custom names (EndpointName, ModelPackageGroupName), still tagged alpha.
    a.endpoint("custom-serving", "alpha--epc-alpha-endpoint-v2-0123456789abcdef", "alpha")
    a.group("team-registry", "alpha", versions=1)
    a.scaling("alpha--gone", "alpha--invocations-per-instance")
    # Look-alikes.
    a.model("alpha--model-untagged", None)
    a.config("alpha--epc-of-alpha-2", "alpha-2--model-alpha-2-models-v1-0123456789abcdef", "alpha-2")
    a.endpoint("alpha--endpoint-of-alpha-2", "alpha--epc-of-alpha-2", "alpha-2")
    a.scaling("alpha--endpoint-of-alpha-2", "alpha--invocations-per-instance")
    a.scaling("alpha--gone-unknown", "someone-elses-policy")
    a.group("alpha--registry-untagged", None, versions=1)
    return a


def run(account: Account, *arguments: str) -> int:
    return destroy.main(
        ["--pipeline", "alpha", "--region", REGION, "--endpoint-url", account.emulator.endpoint_url,
         "--model-package-group", "team-registry", "--endpoint", "custom-serving", *arguments]
    )


def without(inventory: dict[str, set[str]], removed: dict[str, set[str]]) -> dict[str, set[str]]:
    return {kind: names - removed.get(kind, set()) for kind, names in inventory.items()}


def test_alpha_is_torn_down_and_nothing_else(account, capsys):
    before = account.inventory()
    for kind, names in ALPHA.items():
        assert names <= before[kind], kind
    account.forget_calls()

    assert run(account, "--yes") == 0
    out = capsys.readouterr().out

    assert account.inventory() == without(before, ALPHA)
    # The look-alikes are reported as found and left, with the reason.
    for name, reason in NOT_OURS.items():
        assert f"{name}: not ours: {reason}" in out, name
    # alpha's running job is not stopped without --stop-training-jobs, and says how.
    assert "alpha--ecr-churn-0123456789abcdef: ours, in progress; training jobs cannot be deleted" in out
    assert "alpha--ecr-churn-0123456789abcdef InProgress" in account.inventory()["jobs"]
    for name in ALPHA["endpoints"] | ALPHA["models"] | ALPHA["versions"]:
        assert name in out
    assert "Done: " in out

    # Order: a variant deregistered before its endpoint goes, endpoints before
    # configurations before models, versions before their group.
    calls = [c for c in account.calls() if c.startswith(("Delete", "Deregister", "Stop"))]
    order = ["DeleteSchedule", "DeleteScalingPolicy", "DeregisterScalableTarget", "DeleteEndpoint",
             "DeleteEndpointConfig", "DeleteModel", "DeleteModelPackage", "DeleteModelPackageGroup"]
    assert [c for i, c in enumerate(calls) if i == 0 or calls[i - 1] != c] == order
    assert calls.count("DeleteEndpoint") == 3 and calls.count("DeleteModelPackage") == 3

    # A second run finds nothing of alpha's, deletes nothing, still reports what it leaves.
    account.forget_calls()
    assert run(account, "--yes") == 0
    out = capsys.readouterr().out
    assert "Nothing to delete." in out
    assert "alpha--model-untagged: not ours: no mlops:pipeline tag" in out
    assert not [c for c in account.calls() if c.startswith(("Delete", "Deregister", "Stop"))]
    assert account.inventory() == without(before, ALPHA)


def test_dry_run_lists_and_deletes_nothing(account, capsys):
    before = account.inventory()
    account.forget_calls()

    assert run(account, "--dry-run") == 0
    out = capsys.readouterr().out

    assert account.inventory() == before
    assert not [c for c in account.calls() if not c.startswith(("List", "Describe", "Get"))]
    assert f"Would delete ({TOTAL}):" in out
    assert "  endpoints (3)\n    alpha--endpoint  [InService]\n" in out
    assert "  model package versions (3)\n    alpha--models/1  [Approved]\n" in out
    assert "Dry run: nothing deleted." in out
    for name in NOT_OURS:
        assert name in out
    for other in ("alpha-2--endpoint", "pre-alpha--endpoint", "pre-alpha--models", "alpha-2-retraining"):
        assert other not in out


def test_confirmation_by_typing_the_pipeline_name(account):
    """The command line as `make destroy` runs it, with the prompt."""
    before = account.inventory()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION,
               AWS_ENDPOINT_URL=account.emulator.endpoint_url)
    command = [sys.executable, str(SCRIPT), "--pipeline", "alpha", "--model-package-group", "team-registry",
               "--endpoint", "custom-serving"]

    refused = subprocess.run(command, input="alpha-2\n", env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"Type the pipeline name (alpha) to delete these {TOTAL} resource(s):" in refused.stdout
    assert "Aborted: nothing deleted." in refused.stdout
    assert account.inventory() == before

    # No answer at all (standard input closed): refused too.
    closed = subprocess.run(command, input="", env=env, capture_output=True, text=True, timeout=120)
    assert closed.returncode == 1 and account.inventory() == before

    done = subprocess.run(command, input="alpha\n", env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert account.inventory() == without(before, ALPHA)


def test_a_bad_pipeline_name_is_refused(capsys):
    """Refused before any call: "alpha--endpoint" would make "alpha--endpoint--" the prefix."""
    for bad in ("Alpha", "alpha--endpoint", "alpha-", "", "a" * 33):
        with pytest.raises(SystemExit) as exit:
            destroy.main(["--pipeline", bad, "--region", REGION, "--endpoint-url", "http://127.0.0.1:9"])
        assert exit.value.code == 2
        assert "a pipeline name is 1-32 lower-case letters" in capsys.readouterr().err


def test_a_creating_endpoint_is_waited_for(account, capsys):
    account.set_endpoint_status("alpha--staging-endpoint", "Creating")
    settles = threading.Timer(2.0, account.set_endpoint_status, ("alpha--staging-endpoint", "InService"))
    settles.start()
    try:
        assert run(account, "--yes", "--wait-timeout", "30") == 0
    finally:
        settles.cancel()
    out = capsys.readouterr().out
    assert "alpha--staging-endpoint  [Creating: waits until it settles]" in out
    assert "waiting: endpoint alpha--staging-endpoint is Creating" in out
    assert "alpha--staging-endpoint" not in account.inventory()["endpoints"]


def test_what_cannot_be_deleted_is_reported_and_the_rest_is_done(account, capsys):
    before = account.inventory()
    account.set_endpoint_status("alpha--staging-endpoint", "Creating")  # and it stays so
    account.fault("DeleteModel", count=1)
    account.fault("DeleteModelPackage", skip=2, count=1)  # team-registry/1, alpha--models' are first

    assert run(account, "--yes", "--wait-timeout", "0.3") == 1
    out = capsys.readouterr().out

    assert f"4 of {TOTAL} could not be done:" in out
    assert "endpoints: alpha--staging-endpoint: still Creating after 0 s; run again once it is InService or Failed" in out
    assert "models: alpha--model-alpha-models-v1-0123456789abcdef: AccessDeniedException: not allowed to DeleteModel" in out
    assert "model package versions: team-registry/1: AccessDeniedException: not allowed to DeleteModelPackage" in out
    assert "model package groups: team-registry: not deleted, as some of its versions were not" in out
    left = {
        "endpoints": {"alpha--staging-endpoint"},
        "models": {"alpha--model-alpha-models-v1-0123456789abcdef"},
        "groups": {"team-registry"},
        "versions": {"team-registry/1"},
    }
    after = account.inventory()
    assert after == without(before, {kind: names - left.get(kind, set()) for kind, names in ALPHA.items()})

    # Once the cause is gone, a second run finishes the job, and only that.
    account.set_endpoint_status("alpha--staging-endpoint", "InService")
    assert run(account, "--yes") == 0
    out = capsys.readouterr().out
    assert "To delete (4):" in out
    assert account.inventory() == without(before, ALPHA)


def test_an_incomplete_listing_deletes_nothing(account, capsys):
    before = account.inventory()
    account.fault("ListModels", count=1)
    assert run(account, "--yes") == 1
    out = capsys.readouterr().out
    assert "Could not list (1):\n  models: AccessDeniedException: not allowed to ListModels" in out
    assert "The listing is incomplete: nothing deleted." in out
    assert account.inventory() == before


def test_stop_training_jobs(account, capsys):
    assert run(account, "--yes", "--stop-training-jobs") == 0
    out = capsys.readouterr().out
    assert "  training jobs (in progress) (1)\n    alpha--ecr-churn-0123456789abcdef  [stop]\n" in out
    assert "stopped: training jobs (in progress): alpha--ecr-churn-0123456789abcdef" in out
    jobs = account.inventory()["jobs"]
    assert "alpha--ecr-churn-0123456789abcdef Stopped" in jobs
    # Finished jobs stay, and other pipelines' running jobs run on.
    assert "alpha--s3-20310101-0000-0123456789abcdef Completed" in jobs
    assert {"alpha-2--ecr-churn-0123456789abcdef InProgress", "pre-alpha--ecr-churn-0123456789abcdef InProgress"} <= jobs


def test_the_emulator_rules_the_script_relies_on(emulator):
    """Rules 19-23 alone (sagemaker_rules)."""
    sagemaker = emulator.client()
    a = Account(emulator)
    errors = sagemaker.exceptions

    # 19-21: versions are deleted one by one, never reused, and a group goes only once empty.
    a.group("registry", "alpha", versions=3)
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/registry"
    with pytest.raises(errors.ConflictException):
        sagemaker.delete_model_package_group(ModelPackageGroupName="registry")
    sagemaker.delete_model_package(ModelPackageName=f"{arn}/3")
    spec = {"Containers": [{"Image": IMAGE}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}
    assert sagemaker.create_model_package(ModelPackageGroupName="registry", InferenceSpecification=spec)[
        "ModelPackageArn"
    ] == f"{arn}/4"
    for version in (1, 2, 4):
        sagemaker.delete_model_package(ModelPackageName=f"{arn}/{version}")
    with pytest.raises(errors.ClientError) as missing:
        sagemaker.delete_model_package(ModelPackageName=f"{arn}/4")
    assert missing.value.response["Error"]["Message"] == f"Model package {arn}/4 not found"
    assert sagemaker.list_model_packages(ModelPackageGroupName="registry")["ModelPackageSummaryList"] == []
    sagemaker.delete_model_package_group(ModelPackageGroupName="registry")
    with pytest.raises(errors.ClientError) as gone:
        sagemaker.delete_model_package_group(ModelPackageGroupName="registry")
    assert gone.value.response["Error"]["Message"] == (
        f"ModelPackageGroup arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/registry does not exist."
    )

    # 22: only a job in progress can be stopped.
    a.training_job("job", "alpha", "Completed")
    with pytest.raises(errors.ClientError) as finished:
        sagemaker.stop_training_job(TrainingJobName="job")
    assert finished.value.response["Error"]["Message"] == (
        "The request was rejected because the training job is in status Completed."
    )
    assert a.emulator.control("sagemaker/training-jobs/job", {"TrainingJobStatus": "InProgress"})[0] == 200
    sagemaker.stop_training_job(TrainingJobName="job")
    stopped = sagemaker.describe_training_job(TrainingJobName="job")
    assert (stopped["TrainingJobStatus"], stopped["SecondaryStatus"]) == ("Stopped", "Stopped")

    # 23: an endpoint that is Creating is not deleted.
    a.model("model", "alpha")
    a.config("config", "model", "alpha")
    a.endpoint("endpoint", "config", "alpha")
    a.set_endpoint_status("endpoint", "Creating")
    with pytest.raises(errors.ClientError) as creating:
        sagemaker.delete_endpoint(EndpointName="endpoint")
    assert creating.value.response["Error"]["Message"] == (
        f'Cannot update in-progress endpoint "arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/endpoint".'
    )
    a.set_endpoint_status("endpoint", "Failed")
    sagemaker.delete_endpoint(EndpointName="endpoint")
