"""Tear down what one pipeline's functions created at runtime: `make destroy`.

`sam delete` removes the CloudFormation stack: the functions, rules, queues,
roles, the schedule group, the alarms. It does not remove what the functions
created themselves while the pipeline ran. This script removes that, for one
pipeline only:

  training jobs (in progress)  stopped, only with --stop-training-jobs
                               (SageMaker cannot delete training jobs)
  schedules                    one-time retraining schedules in <pipeline>-retraining
  scaling policies             Application Auto Scaling policies on our endpoints' variants
  scalable targets             ... and the variants' registrations (before the endpoint goes)
  endpoints                    <pipeline>--endpoint, <pipeline>--staging-endpoint, any
                               <pipeline>--*, and the custom names given with --endpoint
  endpoint configurations      <pipeline>--epc-*
  models                       <pipeline>--model-*
  model package versions       every version of our model package group(s)
  model package groups         <pipeline>--models (--model-package-group) and <pipeline>--*

in that order. A resource is this pipeline's only if its name has the
pipeline's prefix "<pipeline>--" (pipeline names never contain "--", so
"demo--" is never a prefix of pipeline "demo-2"'s names) AND it carries the tag
mlops:pipeline=<pipeline>. Resources that match the name but not the tag are
listed as "not ours, left" and never touched. Names that do not carry the
prefix are taken only when named explicitly (--endpoint, --model-package-group)
and still need the tag. What has no tags of its own is judged by its parent:
a schedule by its schedule group's tag, a model package version by its group's,
a scaling policy and a scalable target by their endpoint's (or, when the
endpoint is gone, by the policy name the deploy function gives them).

It first lists everything it would do, grouped by kind, then asks for the
pipeline's name to be typed (unless --yes), then deletes, and reports every
failure; it exits non-zero if anything could not be listed or deleted. Run it
again: a finished teardown lists nothing.

Usage:
  .venv/bin/python scripts/destroy.py --pipeline NAME [--region REGION]
      [--model-package-group NAME] [--endpoint NAME ...] [--endpoint-url URL]
      [--stop-training-jobs] [--wait-timeout SECONDS] [--dry-run | --yes]

Credentials, region and endpoint come from boto3's usual sources
(AWS_PROFILE, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL, ...) unless given.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

TAG_PIPELINE = "mlops:pipeline"  # shared/src/tags.rs, keys::PIPELINE
VARIANT_SEPARATOR = "/variant/"
SCALING_POLICY_SUFFIX = "invocations-per-instance"  # shared/src/autoscaling.rs
SAGEMAKER_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
# Endpoint statuses in which SageMaker refuses DeleteEndpoint (or an update is
# still under way): wait for the endpoint to settle first.
BUSY_ENDPOINT = ("Creating", "Updating", "SystemUpdating", "RollingBack")
POLL_SECONDS = 10.0
PIPELINE_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # shared/src/names.rs, PipelineName::parse
MAX_PIPELINE_NAME = 32

# The kinds, in the order they are listed and deleted.
STOP_JOBS = "training jobs (in progress)"
SCHEDULES = "schedules"
POLICIES = "scaling policies"
TARGETS = "scalable targets"
ENDPOINTS = "endpoints"
CONFIGS = "endpoint configurations"
MODELS = "models"
VERSIONS = "model package versions"
GROUPS = "model package groups"
KINDS = (STOP_JOBS, SCHEDULES, POLICIES, TARGETS, ENDPOINTS, CONFIGS, MODELS, VERSIONS, GROUPS)


@dataclass
class Item:
    """One thing to delete (or stop), and how."""

    kind: str
    name: str
    action: Callable[[], None]
    note: str = ""


@dataclass
class Left:
    """One thing found and deliberately not touched, and why."""

    kind: str
    name: str
    reason: str


@dataclass
class Plan:
    items: list[Item] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)
    # What could not be listed: the plan is incomplete, nothing is deleted.
    errors: list[str] = field(default_factory=list)

    def of(self, kind: str) -> list[Item]:
        return [item for item in self.items if item.kind == kind]


class Failed(Exception):
    """A deletion that did not happen, with the reason to report."""


class Teardown:
    """The AWS clients and settings of one run."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.pipeline: str = args.pipeline
        self.prefix = f"{args.pipeline}--"
        self.group = args.model_package_group or f"{args.pipeline}--models"
        self.schedule_group = f"{args.pipeline}-retraining"
        self.extra_endpoints: list[str] = args.endpoint or []
        self.stop_jobs: bool = args.stop_training_jobs
        self.wait_timeout: float = args.wait_timeout
        session = boto3.Session(region_name=args.region)
        if not session.region_name:
            raise SystemExit("destroy: no AWS region: pass --region, or set AWS_DEFAULT_REGION or a profile's region")
        self.region: str = session.region_name
        config = Config(retries={"mode": "standard", "max_attempts": 5})

        def client(service: str) -> Any:
            return session.client(service, endpoint_url=args.endpoint_url, config=config)

        self.sagemaker = client("sagemaker")
        self.scheduler = client("scheduler")
        self.autoscaling = client("application-autoscaling")
        self.endpoint_url = self.sagemaker.meta.endpoint_url
        # Filled while listing: our endpoints, and names with our prefix that are not ours.
        self.our_endpoints: set[str] = set()
        self.foreign_endpoints: set[str] = set()

    def ours(self, tags: dict[str, str]) -> str | None:
        """None when the tags say the resource is ours, else why it is not."""
        value = tags.get(TAG_PIPELINE)
        if value == self.pipeline:
            return None
        if value is None:
            return f"no {TAG_PIPELINE} tag"
        return f"tagged {TAG_PIPELINE}={value}"

    def sagemaker_tags(self, arn: str) -> dict[str, str]:
        tags: dict[str, str] = {}
        for page in self.sagemaker.get_paginator("list_tags").paginate(ResourceArn=arn):
            tags.update({tag["Key"]: tag.get("Value", "") for tag in page.get("Tags", [])})
        return tags

    def prefixed(self, operation: str, result_key: str, name_key: str, **request: Any) -> list[dict]:
        """A SageMaker List* answer, only the names that start with our prefix
        (NameContains is a substring match: "x-demo--" contains "demo--")."""
        found = []
        for page in self.sagemaker.get_paginator(operation).paginate(NameContains=self.prefix, **request):
            found.extend(entry for entry in page[result_key] if entry[name_key].startswith(self.prefix))
        return sorted(found, key=lambda entry: entry[name_key])


# --- errors -----------------------------------------------------------------


def describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        answer = error.response.get("Error", {})
        return f"{answer.get('Code', 'Error')}: {answer.get('Message', error)}"
    return f"{type(error).__name__}: {error}"


def is_gone(error: Exception) -> bool:
    """Whether AWS says the resource does not exist (deleted meanwhile)."""
    if not isinstance(error, ClientError):
        return False
    answer = error.response.get("Error", {})
    code, message = answer.get("Code", ""), answer.get("Message", "")
    if code in ("ResourceNotFoundException", "ResourceNotFound", "ObjectNotFoundException"):
        return True
    return code == "ValidationException" and any(
        words in message
        for words in (
            "Could not find",
            "does not exist",
            "not found",
            "Requested resource not found",
            "No scaling policy found",
            "No scalable target found",
        )
    )


# --- listing: one function per kind -------------------------------------------


def list_training_jobs(t: Teardown, plan: Plan) -> None:
    """In-progress training jobs of ours: stopped with --stop-training-jobs,
    otherwise left (SageMaker keeps training jobs; they end by themselves)."""
    jobs = t.prefixed(
        "list_training_jobs", "TrainingJobSummaries", "TrainingJobName", StatusEquals="InProgress"
    )
    for job in jobs:
        name = job["TrainingJobName"]
        not_ours = t.ours(t.sagemaker_tags(job["TrainingJobArn"]))
        if not_ours:
            plan.left.append(Left(STOP_JOBS, name, f"not ours: {not_ours}"))
        elif t.stop_jobs:
            plan.items.append(Item(STOP_JOBS, name, lambda name=name: stop_training_job(t, name), "stop"))
        else:
            plan.left.append(
                Left(STOP_JOBS, name, "ours, in progress; training jobs cannot be deleted: --stop-training-jobs stops it")
            )


def list_schedules(t: Teardown, plan: Plan) -> None:
    """The retraining schedules in the pipeline's schedule group (the group is
    the stack's: `sam delete` removes it with its schedules)."""
    try:
        group = t.scheduler.get_schedule_group(Name=t.schedule_group)
    except ClientError as error:
        if is_gone(error):
            return
        raise
    if group.get("State") == "DELETING":
        plan.left.append(Left(SCHEDULES, t.schedule_group, "schedule group is being deleted with its schedules"))
        return
    tags = t.scheduler.list_tags_for_resource(ResourceArn=group["Arn"]).get("Tags", [])
    not_ours = t.ours({tag["Key"]: tag["Value"] for tag in tags})
    if not_ours:
        plan.left.append(Left(SCHEDULES, f"{t.schedule_group}/*", f"not ours: schedule group {not_ours}"))
        return
    names = []
    for page in t.scheduler.get_paginator("list_schedules").paginate(GroupName=t.schedule_group):
        names.extend(schedule["Name"] for schedule in page["Schedules"])
    for name in sorted(names):
        plan.items.append(
            Item(SCHEDULES, f"{t.schedule_group}/{name}", lambda name=name: delete_schedule(t, name))
        )


def list_endpoints(t: Teardown, plan: Plan) -> None:
    found = {e["EndpointName"]: e for e in t.prefixed("list_endpoints", "Endpoints", "EndpointName")}
    for name in t.extra_endpoints:
        if name in found:
            continue
        try:
            described = t.sagemaker.describe_endpoint(EndpointName=name)
        except ClientError as error:
            if is_gone(error):
                continue
            raise
        found[name] = described
    for name in sorted(found):
        endpoint = found[name]
        not_ours = t.ours(t.sagemaker_tags(endpoint["EndpointArn"]))
        if not_ours:
            t.foreign_endpoints.add(name)
            plan.left.append(Left(ENDPOINTS, name, f"not ours: {not_ours}"))
            continue
        t.our_endpoints.add(name)
        status = endpoint["EndpointStatus"]
        if status == "Deleting":
            plan.left.append(Left(ENDPOINTS, name, "ours, already being deleted"))
            continue
        note = status + (": waits until it settles" if status in BUSY_ENDPOINT else "")
        plan.items.append(Item(ENDPOINTS, name, lambda name=name: delete_endpoint(t, name), note))


def list_autoscaling(t: Teardown, plan: Plan) -> None:
    """Scaling policies and scalable targets of our endpoints' variants. Run
    after list_endpoints. A target whose endpoint is gone is ours if it holds
    the policy our deploy function puts (<pipeline>--invocations-per-instance)."""
    targets = []
    for page in t.autoscaling.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="sagemaker"):
        targets.extend(page["ScalableTargets"])
    for target in sorted(targets, key=lambda target: target["ResourceId"]):
        resource = target["ResourceId"]
        if not resource.startswith("endpoint/") or VARIANT_SEPARATOR not in resource:
            continue
        endpoint = resource[len("endpoint/") :].split(VARIANT_SEPARATOR, 1)[0]
        if endpoint not in t.our_endpoints and not (
            endpoint.startswith(t.prefix) or endpoint in t.extra_endpoints
        ):
            continue  # nothing to do with this pipeline
        policies = []
        pages = t.autoscaling.get_paginator("describe_scaling_policies").paginate(
            ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=target["ScalableDimension"]
        )
        for page in pages:
            policies.extend(page["ScalingPolicies"])
        if endpoint in t.foreign_endpoints:
            plan.left.append(Left(TARGETS, resource, f"not ours: endpoint {endpoint} is not ours"))
            continue
        if endpoint not in t.our_endpoints:
            ours_by_policy = any(p["PolicyName"] == t.prefix + SCALING_POLICY_SUFFIX for p in policies)
            if not ours_by_policy:
                plan.left.append(
                    Left(TARGETS, resource, "not ours: its endpoint is gone and it has no policy of this pipeline")
                )
                continue
        dimension = target["ScalableDimension"]
        for policy in sorted(policies, key=lambda policy: policy["PolicyName"]):
            name = policy["PolicyName"]
            plan.items.append(
                Item(
                    POLICIES,
                    f"{name} on {resource}",
                    lambda name=name, resource=resource, dimension=dimension: delete_scaling_policy(
                        t, name, resource, dimension
                    ),
                )
            )
        note = "" if endpoint in t.our_endpoints else "its endpoint is gone"
        plan.items.append(
            Item(
                TARGETS,
                resource,
                lambda resource=resource, dimension=dimension: deregister_scalable_target(t, resource, dimension),
                note,
            )
        )


def list_endpoint_configs(t: Teardown, plan: Plan) -> None:
    _list_prefixed_and_tagged(t, plan, CONFIGS, "list_endpoint_configs", "EndpointConfig", delete_endpoint_config)


def list_models(t: Teardown, plan: Plan) -> None:
    _list_prefixed_and_tagged(t, plan, MODELS, "list_models", "Model", delete_model)


def _list_prefixed_and_tagged(t: Teardown, plan: Plan, kind: str, operation: str, noun: str, delete) -> None:
    """SageMaker resources listed by OPERATION whose `<noun>Name` has our prefix:
    ours (planned for DELETE) when their tags say so, else left with why."""
    for resource in t.prefixed(operation, f"{noun}s", f"{noun}Name"):
        name = resource[f"{noun}Name"]
        not_ours = t.ours(t.sagemaker_tags(resource[f"{noun}Arn"]))
        if not_ours:
            plan.left.append(Left(kind, name, f"not ours: {not_ours}"))
        else:
            plan.items.append(Item(kind, name, lambda name=name: delete(t, name)))


def list_model_packages(t: Teardown, plan: Plan) -> None:
    """Our model package group(s) and every version in them. Versions carry no
    tags of their own (SageMaker: a version uses its group's); the group's tag
    decides for all of them."""
    names = {t.group}
    names.update(
        group["ModelPackageGroupName"]
        for group in t.prefixed("list_model_package_groups", "ModelPackageGroupSummaryList", "ModelPackageGroupName")
    )
    for name in sorted(names):
        try:
            group = t.sagemaker.describe_model_package_group(ModelPackageGroupName=name)
        except ClientError as error:
            if is_gone(error):
                continue
            raise
        versions = []
        for page in t.sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=name):
            versions.extend(page["ModelPackageSummaryList"])
        not_ours = t.ours(t.sagemaker_tags(group["ModelPackageGroupArn"]))
        if not_ours:
            plan.left.append(Left(GROUPS, name, f"not ours: {not_ours} ({len(versions)} version(s) in it, left too)"))
            continue
        for version in sorted(versions, key=lambda version: version.get("ModelPackageVersion", 0)):
            arn = version["ModelPackageArn"]
            plan.items.append(
                Item(
                    VERSIONS,
                    f"{name}/{version.get('ModelPackageVersion', '?')}",
                    lambda arn=arn: delete_model_package(t, arn),
                    version.get("ModelApprovalStatus", ""),
                )
            )
        plan.items.append(Item(GROUPS, name, lambda name=name: delete_model_package_group(t, name)))


LISTERS: tuple[tuple[str, Callable[[Teardown, Plan], None]], ...] = (
    (STOP_JOBS, list_training_jobs),
    (SCHEDULES, list_schedules),
    (ENDPOINTS, list_endpoints),  # before autoscaling: it decides whose targets are ours
    (TARGETS, list_autoscaling),
    (CONFIGS, list_endpoint_configs),
    (MODELS, list_models),
    (GROUPS, list_model_packages),
)


def make_plan(t: Teardown) -> Plan:
    plan = Plan()
    for kind, lister in LISTERS:
        try:
            lister(t, plan)
        except (ClientError, BotoCoreError) as error:
            plan.errors.append(f"{kind}: {describe(error)}")
    return plan


# --- deleting: one function per kind ------------------------------------------


def stop_training_job(t: Teardown, name: str) -> None:
    try:
        t.sagemaker.stop_training_job(TrainingJobName=name)
    except ClientError as error:
        # It ended since it was listed: nothing left to stop.
        if "because the training job is in status" not in error.response.get("Error", {}).get("Message", ""):
            raise
        print(f"  ended meanwhile: {STOP_JOBS}: {name}", flush=True)


def delete_schedule(t: Teardown, name: str) -> None:
    t.scheduler.delete_schedule(GroupName=t.schedule_group, Name=name)


def delete_scaling_policy(t: Teardown, name: str, resource: str, dimension: str) -> None:
    t.autoscaling.delete_scaling_policy(
        PolicyName=name, ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=dimension
    )


def deregister_scalable_target(t: Teardown, resource: str, dimension: str) -> None:
    t.autoscaling.deregister_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=dimension
    )


def delete_endpoint(t: Teardown, name: str) -> None:
    """Waits (up to --wait-timeout) while the endpoint is Creating or updating:
    SageMaker refuses to delete it then. Does not wait for the deletion itself."""
    deadline = time.monotonic() + t.wait_timeout
    while True:
        status = t.sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"]
        if status not in BUSY_ENDPOINT:
            break
        if time.monotonic() >= deadline:
            raise Failed(
                f"still {status} after {t.wait_timeout:.0f} s; run again once it is InService or Failed"
            )
        print(f"  waiting: endpoint {name} is {status}", flush=True)
        time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
    if status == "Deleting":
        return
    t.sagemaker.delete_endpoint(EndpointName=name)


def delete_endpoint_config(t: Teardown, name: str) -> None:
    t.sagemaker.delete_endpoint_config(EndpointConfigName=name)


def delete_model(t: Teardown, name: str) -> None:
    t.sagemaker.delete_model(ModelName=name)


def delete_model_package(t: Teardown, arn: str) -> None:
    t.sagemaker.delete_model_package(ModelPackageName=arn)


def delete_model_package_group(t: Teardown, name: str) -> None:
    """SageMaker deletes a group only once it holds no version: waits (up to
    --wait-timeout) for the versions deleted just before to be gone."""
    deadline = time.monotonic() + t.wait_timeout
    while True:
        remaining = []
        for page in t.sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=name):
            remaining.extend(page["ModelPackageSummaryList"])
        if not remaining:
            break
        if time.monotonic() >= deadline:
            raise Failed(f"{len(remaining)} version(s) still in it after {t.wait_timeout:.0f} s")
        time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
    t.sagemaker.delete_model_package_group(ModelPackageGroupName=name)


# --- the run ------------------------------------------------------------------


def print_plan(t: Teardown, plan: Plan, dry_run: bool) -> None:
    print(f"Pipeline {t.pipeline}, region {t.region}, {t.endpoint_url}")
    verb = "Would delete" if dry_run else "To delete"
    print(f"\n{verb} ({len(plan.items)}):" if plan.items else "\nNothing to delete.")
    for kind in KINDS:
        items = plan.of(kind)
        if items:
            print(f"  {kind} ({len(items)})")
            for item in items:
                print(f"    {item.name}" + (f"  [{item.note}]" if item.note else ""))
    if plan.left:
        print(f"\nFound and left ({len(plan.left)}):")
        for kind in KINDS:
            left = [entry for entry in plan.left if entry.kind == kind]
            if left:
                print(f"  {kind} ({len(left)})")
                for entry in left:
                    print(f"    {entry.name}: {entry.reason}")
    print(
        "\nNever touched here: finished training jobs (SageMaker keeps them), S3 objects,"
        " ECR images, CloudWatch logs; the stack's own resources are `sam delete`'s."
    )
    if plan.errors:
        print(f"\nCould not list ({len(plan.errors)}):")
        for error in plan.errors:
            print(f"  {error}")


def confirmed(pipeline: str, count: int) -> bool:
    print(f"\nType the pipeline name ({pipeline}) to delete these {count} resource(s): ", end="", flush=True)
    answer = sys.stdin.readline()
    return answer.strip() == pipeline


def execute(plan: Plan) -> list[str]:
    """Deletes in KINDS order; every failure is returned, nothing stops the rest,
    except that a group is not deleted when one of its versions was not."""
    failures: list[str] = []
    failed_groups: set[str] = set()
    for kind in KINDS:
        for item in plan.of(kind):
            if kind == GROUPS and item.name in failed_groups:
                failures.append(f"{kind}: {item.name}: not deleted, as some of its versions were not")
                continue
            try:
                item.action()
            except (Failed, ClientError, BotoCoreError) as error:
                if is_gone(error):
                    print(f"  already gone: {kind}: {item.name}", flush=True)
                    continue
                failures.append(f"{kind}: {item.name}: {error if isinstance(error, Failed) else describe(error)}")
                if kind == VERSIONS:
                    failed_groups.add(item.name.rsplit("/", 1)[0])
                print(f"  FAILED: {failures[-1]}", flush=True)
                continue
            done = "stopped" if kind == STOP_JOBS else "deleted"
            print(f"  {done}: {kind}: {item.name}", flush=True)
    return failures


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="destroy.py",
        description="Delete what one pipeline's functions created at runtime (after `sam delete`).",
    )
    parser.add_argument("--pipeline", required=True, help="the stack's PipelineName parameter")
    parser.add_argument("--region", help="AWS region (default: boto3's: AWS_DEFAULT_REGION, the profile's)")
    parser.add_argument(
        "--model-package-group",
        metavar="NAME",
        help="the stack's ModelPackageGroupName, when it was set (default: <pipeline>--models)",
    )
    parser.add_argument(
        "--endpoint",
        action="append",
        metavar="NAME",
        help="an endpoint name without the pipeline's prefix (EndpointName, StagingEndpointName); repeatable",
    )
    parser.add_argument("--endpoint-url", metavar="URL", help="AWS endpoint, e.g. the local emulator (default: boto3's, AWS_ENDPOINT_URL)")
    parser.add_argument(
        "--stop-training-jobs",
        action="store_true",
        help="also stop this pipeline's training jobs that are in progress (they cannot be deleted)",
    )
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="how long to wait for a busy endpoint to settle, or for deleted versions to go (default 1800)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    mode.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    if not PIPELINE_NAME.match(args.pipeline) or len(args.pipeline) > MAX_PIPELINE_NAME:
        parser.error(
            f"--pipeline {args.pipeline!r}: a pipeline name is 1-{MAX_PIPELINE_NAME} lower-case letters, "
            "digits and single hyphens, starting and ending with a letter or digit"
        )
    if args.wait_timeout < 0:
        parser.error("--wait-timeout must not be negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t = Teardown(args)
    plan = make_plan(t)
    print_plan(t, plan, args.dry_run)
    if plan.errors:
        print("\nThe listing is incomplete: nothing deleted. Fix the above and run again.")
        return 1
    if args.dry_run:
        print("\nDry run: nothing deleted.")
        return 0
    if not plan.items:
        return 0
    if not args.yes and not confirmed(t.pipeline, len(plan.items)):
        print("Aborted: nothing deleted.")
        return 1
    print()
    failures = execute(plan)
    if failures:
        print(f"\n{len(failures)} of {len(plan.items)} could not be done:")
        for failure in failures:
            print(f"  {failure}")
        print("Fix the cause and run again: what was deleted is not listed again.")
        return 1
    print(f"\nDone: {len(plan.items)} deleted or stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
