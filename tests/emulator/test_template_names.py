"""Two pipelines side by side: no physical name of one is a name of the other.

Two stacks of template.yaml in one account and region (stack names mlops-a and
mlops-b, PipelineName a and b, every other parameter alike) must deploy and
run without fighting over a name: a second S3 bucket, KMS alias, EventBridge
rule, log group, alarm, ... of the same name fails the deployment, and a
SageMaker endpoint or model package group of the same name is worse: the
functions create those at run time (from their environment), and two
pipelines would silently take turns deploying to one endpoint.

How (pure Python, no emulator):

* The template is decoded by scripts/template_rules.py's loader (cfn-lint's
  decoder: every short form, !Sub, !If, !GetAtt, ...) and put through SAM's own
  transform (its `_cloudformation`), so the resources SAM generates (functions,
  their roles, the rules of their events, the HTTP API and its stage) are there
  as CloudFormation deploys them.
* A small renderer below then resolves every intrinsic function of every
  resource that exists for the parameter values (Conditions evaluated, a
  resource whose Condition is false does not exist), with the pseudo
  parameters of the stack. It knows Ref, Fn::Sub, Fn::If, Fn::Join, Fn::Split,
  Fn::Select, Fn::GetAtt, Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition,
  and refuses anything else: an intrinsic it does not understand fails the test
  instead of being passed over. The parameter values are checked as
  CloudFormation checks them (AllowedPattern, AllowedValues, lengths, ranges)
  and so are the template's Rules: each parameter set is one that deploys.
* Every resource type of the template is either in NAMED (which property
  names it, in which namespace the name must be unique, whether CloudFormation
  generates one when the template gives none) or in UNNAMED (why it has no
  account- or region-unique name). A new resource type in neither fails
  `test_every_resource_type_is_classified`: someone has to decide.
* A resource of a NAMED type without its name property gets a name that
  CloudFormation generates: <stack name>-<logical id>-<random suffix>
  (shortened to the service's limit, lower case for S3). That is the case of
  every function (SAM's AWS::Serverless::Function without FunctionName), every
  role (SAM's and the template's, no RoleName), the queues, the topic and the
  data bucket: the random suffix alone makes those unique, and the stack name
  in them tells them apart; they are listed as "generated".
* The functions' environment names what they create at run time: RUNTIME_NAMES
  (ENDPOINT_NAME, STAGING_ENDPOINT_NAME with StagingEnabled,
  MODEL_PACKAGE_GROUP_NAME, the schedule group RETRAIN_SCHEDULE_GROUP in which
  retrain_model_on_new_data creates its one-time schedules) and the prefixes of
  the SageMaker names it derives from PIPELINE_NAME (training jobs <p>--...,
  models <p>--model-..., endpoint configurations <p>--epc-..., shared/src/names.rs).
  Prefixes collide when one starts with the other. An environment variable
  that looks like a name (..._NAME, ..._GROUP, ..._PREFIX, ..._SOURCE) and is
  in neither RUNTIME_NAMES nor NOT_RUNTIME_NAMES fails the test.

User-given names (DataBucketName, EndpointName, ModelPackageGroupName,
StagingEndpointName, EcrRepositoryName with CreateImageRepository) are the
user's choice; with the defaults every name must differ. The one documented
exception is in ALLOWED_SHARED: the IAM OIDC provider of GitHub Actions, of
which an account has one per URL (CreateGitHubOidcProvider: only when the
account has none; a second pipeline names it with GitHubOidcProviderArn).

The parameter sets (SCENARIOS) together turn on every conditional resource:
`test_scenarios_cover_every_resource` fails when a resource is rendered by none.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.dont_write_bytecode = True  # no scripts/__pycache__ in the tree

import template_rules  # noqa: E402  (scripts/, put on the path above)

TEMPLATE = ROOT / "template.yaml"
ACCOUNT = "123456789012"
REGION = "us-east-1"
# What a name CloudFormation generates ends with: a random suffix, different
# for every resource it creates (so no generated name ever equals another).
GENERATED_SUFFIX = "{random}"


class RenderError(Exception):
    """The template cannot be rendered for these values: the message says where and why."""


# ---------------------------------------------------------------------------
# Names: which resource types carry an account- or region-unique name.


@dataclass(frozen=True)
class PhysicalName:
    namespace: str  # within which the name must be unique (both stacks: one account, one region)
    name: str
    source: str  # where it comes from, e.g. Resources.PipelineKeyAlias.Properties.AliasName
    kind: str  # "explicit", "generated" (by CloudFormation), "runtime" (a function's environment), "prefix"

    def overlaps(self, other: PhysicalName) -> bool:
        if self.namespace != other.namespace:
            return False
        if self.kind == "prefix" and other.name.startswith(self.name):
            return True
        if other.kind == "prefix" and self.name.startswith(other.name):
            return True
        return self.name == other.name

    def __str__(self) -> str:
        return f"{self.namespace}: {self.name!r} ({self.kind}, {self.source})"


def _prop(path: str) -> Callable[[dict], Any]:
    def get(properties: dict) -> Any:
        node: Any = properties
        for part in path.split("."):
            if not isinstance(node, dict):
                return None
            node = node.get(part)
        return node

    return get


def _bus(properties: dict) -> str:
    bus = properties.get("EventBusName", "default")
    # A rule may name its bus by ARN (arn:...:event-bus/<name>).
    return str(bus).rsplit("event-bus/", 1)[-1]


@dataclass(frozen=True)
class NameRule:
    namespace: Callable[[dict], str]  # from the rendered properties
    name: Callable[[dict], Any]  # the name property's rendered value, None when absent
    generated: bool  # CloudFormation generates a name when the template gives none
    lower: bool = False  # the generated name is lower case (S3)


def _rule(namespace: str, prop: str, generated: bool = True, lower: bool = False) -> NameRule:
    return NameRule(lambda _: namespace, _prop(prop), generated, lower)


NAMED: dict[str, NameRule] = {
    # S3: one namespace for all accounts and regions.
    "AWS::S3::Bucket": _rule("S3 bucket (global)", "BucketName", lower=True),
    "AWS::SQS::Queue": _rule("SQS queue", "QueueName"),
    "AWS::SNS::Topic": _rule("SNS topic", "TopicName"),
    # IAM names are account-global (all regions); a role's inline policies
    # (Policies[].PolicyName) are the role's own, not names of the account.
    "AWS::IAM::Role": _rule("IAM role (account-global)", "RoleName"),
    "AWS::IAM::ManagedPolicy": _rule("IAM managed policy (account-global)", "ManagedPolicyName"),
    "AWS::IAM::InstanceProfile": _rule("IAM instance profile (account-global)", "InstanceProfileName"),
    "AWS::IAM::User": _rule("IAM user (account-global)", "UserName"),
    "AWS::IAM::Group": _rule("IAM group (account-global)", "GroupName"),
    # One provider per issuer URL per account.
    "AWS::IAM::OIDCProvider": _rule("IAM OIDC provider (account-global, one per URL)", "Url", generated=False),
    "AWS::KMS::Alias": _rule("KMS alias", "AliasName", generated=False),
    "AWS::ECR::Repository": _rule("ECR repository", "RepositoryName"),
    # A rule's name is unique on its bus.
    "AWS::Events::Rule": NameRule(lambda p: f"EventBridge rule on bus {_bus(p)}", _prop("Name"), True),
    "AWS::Events::EventBus": _rule("EventBridge event bus", "Name", generated=False),
    "AWS::CloudWatch::Alarm": _rule("CloudWatch alarm", "AlarmName"),
    # Dashboards are global to the account (all regions).
    "AWS::CloudWatch::Dashboard": _rule("CloudWatch dashboard (account-global)", "DashboardName"),
    "AWS::Logs::LogGroup": _rule("CloudWatch Logs log group", "LogGroupName"),
    # SAM's AWS::Serverless::Function has no FunctionName here: CloudFormation
    # generates <stack>-<logical id>-<random>, unique, with the stack name.
    "AWS::Lambda::Function": _rule("Lambda function", "FunctionName"),
    "AWS::Scheduler::ScheduleGroup": _rule("EventBridge Scheduler schedule group", "Name"),
    "AWS::Scheduler::Schedule": NameRule(
        lambda p: f"EventBridge Scheduler schedule in group {p.get('GroupName', 'default')}", _prop("Name"), True
    ),
    # API Gateway does not refuse a second API of the same name, but two
    # pipelines' APIs must not be told apart by their ID alone. SAM's HttpApi
    # with a DefinitionBody is named by its info.title.
    "AWS::ApiGatewayV2::Api": NameRule(
        lambda _: "API Gateway API (name)",
        lambda p: p.get("Name") or _prop("Body.info.title")(p),
        True,
    ),
    "AWS::SageMaker::Endpoint": _rule("SageMaker endpoint", "EndpointName"),
    "AWS::SageMaker::ModelPackageGroup": _rule("SageMaker model package group", "ModelPackageGroupName"),
}

UNNAMED: dict[str, str] = {
    "AWS::S3::BucketPolicy": "attached to its bucket; no name",
    "AWS::SQS::QueuePolicy": "attached to its queues; no name",
    "AWS::SNS::TopicPolicy": "attached to its topics; no name",
    "AWS::SNS::Subscription": "identified by an ARN under its topic; no name",
    "AWS::KMS::Key": "identified by a key ID that KMS generates; its name is the alias (AWS::KMS::Alias)",
    "AWS::Lambda::Permission": "a statement in its function's resource policy, ID generated by CloudFormation",
    "AWS::Lambda::EventInvokeConfig": "one per function (and qualifier), no name of its own",
    "AWS::Lambda::EventSourceMapping": "identified by a UUID that Lambda generates",
    "AWS::ApiGatewayV2::Stage": "StageName ($default) is unique within its API only",
}


# ---------------------------------------------------------------------------
# Names the functions create or use at run time, from their environment.

# Environment variable -> namespace of the resource the function creates (or
# looks up and would share) under that name.
RUNTIME_NAMES: dict[str, str] = {
    # deploy_sagemaker_model creates and updates it; serve_predictions invokes it.
    "ENDPOINT_NAME": "SageMaker endpoint",
    # Only with StagingEnabled (see _runtime_names).
    "STAGING_ENDPOINT_NAME": "SageMaker endpoint",
    # register_model_in_registry creates it if missing, so two pipelines with one
    # name would share a group (and deploy each other's versions) without an error.
    "MODEL_PACKAGE_GROUP_NAME": "SageMaker model package group",
    # retrain_model_on_new_data's one-time schedules are named within this group
    # (<channel hash>-<minute>): a group per pipeline keeps them apart.
    "RETRAIN_SCHEDULE_GROUP": "EventBridge Scheduler schedule group",
}

# Every SageMaker name the functions derive is <PipelineName>--<kind>-...
# (shared/src/names.rs): training jobs (kind ecr, s3, ...), models and endpoint
# configurations. Namespace -> what follows the pipeline name.
PIPELINE_PREFIXES: dict[str, str] = {
    "SageMaker training job": "--",
    "SageMaker model": "--model-",
    "SageMaker endpoint configuration": "--epc-",
}

NOT_RUNTIME_NAMES: dict[str, str] = {
    "PIPELINE_NAME": "the prefix of the SageMaker names the functions derive (PIPELINE_PREFIXES)",
    "ECR_REPOSITORY_NAME": "read only: the repository pushes come from (the stack's ImageRepository, or the user's)",
    "EVENT_BUS_NAME": "shared by design (the default bus): the rules match detail.pipeline",
    "EVENT_SOURCE": "shared by design (mlops.pipeline): the rules match detail.pipeline",
    "RETRAIN_CHANNEL_NAME": "a channel name inside each training job, no AWS resource",
}
LOOKS_LIKE_A_NAME = re.compile(r"_(NAME|NAMES|GROUP|PREFIX|SOURCE)$")

# Shared on purpose. (namespace, name) -> why two pipelines may name the same.
ALLOWED_SHARED: dict[tuple[str, str], str] = {
    ("IAM OIDC provider (account-global, one per URL)", "https://token.actions.githubusercontent.com"): (
        "an account has one OIDC provider per issuer URL: CreateGitHubOidcProvider is for "
        "the first pipeline only (the template says so, and GitHubOidcProvider is Retain); "
        "the others pass its ARN as GitHubOidcProviderArn"
    ),
}


# ---------------------------------------------------------------------------
# The renderer


SUPPORTED_FUNCTIONS = {
    "Fn::Sub",
    "Fn::If",
    "Fn::Join",
    "Fn::Split",
    "Fn::Select",
    "Fn::GetAtt",
    "Fn::Equals",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
}
_NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def intrinsics_in(node: Any, where: str = "") -> dict[str, str]:
    """Every intrinsic function name (Fn::...) in `node`, with the first place it occurs."""
    found: dict[str, str] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and key.startswith("Fn::"):
                    found.setdefault(key, path)
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")

    walk(node, where)
    return found


class Stack:
    """One stack of a CloudFormation template (SAM already transformed) for
    these parameter values: `resources` are the ones that exist, each
    rendered, every intrinsic function resolved."""

    def __init__(self, template: dict, stack_name: str, parameters: dict[str, str]):
        self.template = template
        self.stack_name = stack_name
        self.pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack_name}/{GENERATED_SUFFIX}",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.parameters = self._parameters(parameters)
        self._conditions: dict[str, bool] = {}
        self._evaluating: set[str] = set()  # conditions
        self._naming: set[str] = set()  # resources
        self._physical_ids: dict[str, str] = {}
        declared = template.get("Resources") or {}
        self.declared = declared
        self.active = [
            logical_id
            for logical_id, resource in declared.items()
            if "Condition" not in resource or self.condition(resource["Condition"], f"Resources.{logical_id}")
        ]
        self._check_rules()
        self.resources = {
            logical_id: {
                "Type": declared[logical_id]["Type"],
                "Properties": self.render(
                    declared[logical_id].get("Properties") or {}, f"Resources.{logical_id}.Properties"
                ),
            }
            for logical_id in self.active
        }
        self.outputs = {
            name: self.render(output, f"Outputs.{name}")
            for name, output in (template.get("Outputs") or {}).items()
            if "Condition" not in output or self.condition(output["Condition"], f"Outputs.{name}")
        }

    # -- parameters, conditions, rules ------------------------------------------

    def _parameters(self, given: dict[str, str]) -> dict[str, str]:
        declared = self.template.get("Parameters") or {}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise RenderError(f"{self.stack_name}: no such parameters: {', '.join(unknown)}")
        values = {}
        for name, spec in declared.items():
            if name in given:
                value = str(given[name])
            elif "Default" in spec:
                value = str(spec["Default"])
            else:
                raise RenderError(f"{self.stack_name}: parameter {name} has no default and no value")
            where = f"{self.stack_name}: parameter {name}={value!r}"
            if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
                raise RenderError(f"{where} is not one of {spec['AllowedValues']}")
            if spec.get("Type", "String") == "Number":
                try:
                    number = float(value)
                except ValueError:
                    raise RenderError(f"{where} is not a number") from None
                if "MinValue" in spec and number < float(spec["MinValue"]):
                    raise RenderError(f"{where} is below MinValue {spec['MinValue']}")
                if "MaxValue" in spec and number > float(spec["MaxValue"]):
                    raise RenderError(f"{where} is above MaxValue {spec['MaxValue']}")
            elif spec.get("Type", "String") == "String":
                if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
                    raise RenderError(f"{where} does not match {spec['AllowedPattern']}")
                if "MinLength" in spec and len(value) < int(spec["MinLength"]):
                    raise RenderError(f"{where} is shorter than {spec['MinLength']}")
                if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
                    raise RenderError(f"{where} is longer than {spec['MaxLength']}")
            else:
                raise RenderError(f"{where}: parameter type {spec.get('Type')} is not modelled")
            values[name] = value
        return values

    def condition(self, name: Any, where: str) -> bool:
        conditions = self.template.get("Conditions") or {}
        if not isinstance(name, str) or name not in conditions:
            raise RenderError(f"{where}: no such condition {name!r}")
        if name not in self._conditions:
            if name in self._evaluating:
                raise RenderError(f"{where}: condition {name} depends on itself")
            self._evaluating.add(name)
            value = self._boolean(conditions[name], f"Conditions.{name}")
            self._evaluating.discard(name)
            self._conditions[name] = value
        return self._conditions[name]

    def _boolean(self, node: Any, where: str) -> bool:
        """A condition function (Conditions, Rules): Fn::Equals, Fn::Not,
        Fn::And, Fn::Or, Condition, Fn::Contains."""
        if isinstance(node, bool):
            return node
        if isinstance(node, dict) and len(node) == 1:
            (function, argument), = node.items()
            if function == "Condition":
                return self.condition(argument, where)
            if function == "Fn::Equals":
                left, right = self._arguments(argument, 2, function, where)
                return self._scalar(left, where) == self._scalar(right, where)
            if function == "Fn::Not":
                (operand,) = self._arguments(argument, 1, function, where)
                return not self._boolean(operand, where)
            if function in ("Fn::And", "Fn::Or"):
                if not isinstance(argument, list) or not 2 <= len(argument) <= 10:
                    raise RenderError(f"{where}: {function} takes 2 to 10 conditions")
                values = [self._boolean(operand, where) for operand in argument]
                return all(values) if function == "Fn::And" else any(values)
            if function == "Fn::Contains":
                values, value = self._arguments(argument, 2, function, where)
                rendered = self.render(values, where)
                if not isinstance(rendered, list):
                    raise RenderError(f"{where}: Fn::Contains takes a list")
                return self._scalar(value, where) in [self._scalar(v, where) for v in rendered]
        raise RenderError(f"{where}: {json.dumps(node, default=str)[:200]} is not a condition the renderer knows")

    def _scalar(self, node: Any, where: str) -> str:
        value = self.render(node, where)
        if isinstance(value, bool):
            return str(value).lower()
        if not isinstance(value, (str, int, float)):
            raise RenderError(f"{where}: {json.dumps(value, default=str)[:200]} is not a string")
        return str(value)

    def _check_rules(self) -> None:
        """The template's Rules, as CloudFormation checks them before it deploys."""
        for name, rule in (self.template.get("Rules") or {}).items():
            where = f"Rules.{name}"
            if "RuleCondition" in rule and not self._boolean(rule["RuleCondition"], f"{where}.RuleCondition"):
                continue
            for index, assertion in enumerate(rule.get("Assertions") or []):
                if not self._boolean(assertion["Assert"], f"{where}.Assertions[{index}]"):
                    raise RenderError(
                        f"{self.stack_name}: {where} refuses the parameters: {assertion.get('AssertDescription')}"
                    )

    # -- intrinsic functions ------------------------------------------------------

    @staticmethod
    def _arguments(argument: Any, count: int, function: str, where: str) -> list:
        if not isinstance(argument, list) or len(argument) != count:
            raise RenderError(f"{where}: {function} takes a list of {count}, not {json.dumps(argument, default=str)[:200]}")
        return argument

    def render(self, node: Any, where: str) -> Any:
        if isinstance(node, list):
            rendered = [self.render(item, f"{where}[{index}]") for index, item in enumerate(node)]
            return [item for item in rendered if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        functions = [key for key in node if key == "Ref" or str(key).startswith("Fn::")]
        if functions:
            if len(node) != 1:
                raise RenderError(f"{where}: {functions[0]} must be the only key of its object: {sorted(node)}")
            return self._function(functions[0], node[functions[0]], f"{where}.{functions[0]}")
        rendered = {key: self.render(value, f"{where}.{key}") for key, value in node.items()}
        return {key: value for key, value in rendered.items() if value is not _NO_VALUE}

    def _function(self, function: str, argument: Any, where: str) -> Any:
        if function == "Ref":
            return self.ref(argument, where)
        if function == "Fn::If":
            name, if_true, if_false = self._arguments(argument, 3, function, where)
            # Only the branch taken: a Ref in the other may name a resource that
            # does not exist, as CloudFormation allows.
            return self.render(if_true if self.condition(name, where) else if_false, where)
        if function == "Fn::Sub":
            return self._sub(argument, where)
        if function == "Fn::Join":
            delimiter, values = self._arguments(argument, 2, function, where)
            values = self.render(values, where)
            if not isinstance(delimiter, str) or not isinstance(values, list):
                raise RenderError(f"{where}: Fn::Join takes a delimiter and a list")
            return delimiter.join(self._scalar(value, where) for value in values)
        if function == "Fn::Split":
            delimiter, value = self._arguments(argument, 2, function, where)
            if not isinstance(delimiter, str):
                raise RenderError(f"{where}: Fn::Split takes a delimiter string")
            return self._scalar(value, where).split(delimiter)
        if function == "Fn::Select":
            index, values = self._arguments(argument, 2, function, where)
            index = int(self._scalar(index, where))
            values = self.render(values, where)
            if not isinstance(values, list) or not 0 <= index < len(values):
                raise RenderError(f"{where}: Fn::Select index {index} is outside {json.dumps(values, default=str)[:200]}")
            return values[index]
        if function == "Fn::GetAtt":
            if isinstance(argument, str):
                argument = argument.split(".", 1)
            logical_id, attribute = self._arguments(argument, 2, function, where)
            return self.get_att(logical_id, self._scalar(attribute, where), where)
        if function in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
            return self._boolean({function: argument}, where)
        raise RenderError(f"{where}: the renderer does not know the intrinsic function {function}")

    def _sub(self, argument: Any, where: str) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, variables = self._arguments(argument, 2, "Fn::Sub", where)
            if not isinstance(text, str) or not isinstance(variables, dict):
                raise RenderError(f"{where}: Fn::Sub takes a string and a map of variables")

        def substitute(match: re.Match) -> str:
            name = match[1]
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal}
            if name in variables:
                return self._scalar(variables[name], f"{where}.{name}")
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self._scalar(self.get_att(logical_id, attribute, where), where)
            return self._scalar(self.ref(name, where), where)

        return _SUB_VARIABLE.sub(substitute, text)

    def ref(self, name: Any, where: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if isinstance(name, str) and name.startswith("AWS::"):
            raise RenderError(f"{where}: the renderer does not know the pseudo parameter {name}")
        return self.physical_id(self._existing(name, where), where)

    def get_att(self, logical_id: Any, attribute: str, where: str) -> str:
        # An attribute (an ARN, a URL, ...) stands for itself: it is this stack's
        # resource, but no physical name (names must not be made of one).
        return f"<GetAtt {self.stack_name}/{self._existing(logical_id, where)}.{attribute}>"

    def _existing(self, logical_id: Any, where: str) -> str:
        if logical_id not in self.declared:
            raise RenderError(f"{where}: no such parameter or resource {logical_id!r}")
        if logical_id not in self.active:
            raise RenderError(f"{where}: resource {logical_id} does not exist with these parameters (its Condition)")
        return logical_id

    def physical_id(self, logical_id: str, where: str) -> str:
        """What a Ref to the resource gives, as far as names go: its name (the
        explicit one, or the one CloudFormation generates)."""
        if logical_id not in self._physical_ids:
            if logical_id in self._naming:
                raise RenderError(f"{where}: the name of {logical_id} depends on itself")
            self._naming.add(logical_id)
            resource = self.declared[logical_id]
            rule = NAMED.get(resource["Type"])
            properties = self.render(resource.get("Properties") or {}, f"Resources.{logical_id}.Properties")
            name = rule.name(properties) if rule else None
            self._physical_ids[logical_id] = (
                name if isinstance(name, str) else self.generated_name(logical_id, bool(rule and rule.lower))
            )
            self._naming.discard(logical_id)
        return self._physical_ids[logical_id]

    def generated_name(self, logical_id: str, lower: bool = False) -> str:
        # CloudFormation: <stack name>-<logical id>-<random>, parts shortened to
        # the service's limit; the random suffix differs for every resource.
        name = f"{self.stack_name}-{logical_id}-{GENERATED_SUFFIX}"
        return name.lower() if lower else name


# ---------------------------------------------------------------------------
# Physical names of a rendered stack


def unclassified_types(template: dict) -> list[str]:
    types = {resource["Type"] for resource in (template.get("Resources") or {}).values()}
    return sorted(types - set(NAMED) - set(UNNAMED))


def _concrete(name: Any, where: str) -> str:
    """A name that is fully rendered: a non-empty string without a stand-in."""
    if not isinstance(name, str) or not name:
        raise RenderError(f"{where}: the name is {json.dumps(name, default=str)}, not a string")
    if "<GetAtt" in name or "${" in name or GENERATED_SUFFIX in name:
        raise RenderError(f"{where}: {name!r} is built from an attribute or a generated name, not rendered")
    return name


def physical_names(stack: Stack) -> list[PhysicalName]:
    unclassified = unclassified_types(stack.template)
    if unclassified:
        raise RenderError(f"resource types in neither NAMED nor UNNAMED: {', '.join(unclassified)}")
    names = []
    for logical_id, resource in stack.resources.items():
        rule = NAMED.get(resource["Type"])
        if rule is None:
            continue  # UNNAMED
        properties = resource["Properties"]
        namespace = rule.namespace(properties)
        value = rule.name(properties)
        where = f"Resources.{logical_id}"
        if value is None:
            if not rule.generated:
                raise RenderError(f"{where}: a {resource['Type']} needs its name, and has none")
            names.append(PhysicalName(namespace, stack.physical_id(logical_id, where), where, "generated"))
        else:
            names.append(PhysicalName(namespace, _concrete(value, where), where, "explicit"))
    for name, output in stack.outputs.items():
        export = (output.get("Export") or {}).get("Name") if isinstance(output, dict) else None
        if export is not None:
            where = f"Outputs.{name}.Export.Name"
            names.append(PhysicalName("CloudFormation export", _concrete(export, where), where, "explicit"))
    return names + _runtime_names(stack)


def _runtime_names(stack: Stack) -> list[PhysicalName]:
    names = []
    for logical_id, resource in stack.resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        variables = (resource["Properties"].get("Environment") or {}).get("Variables") or {}
        for variable, value in variables.items():
            where = f"Resources.{logical_id}.Properties.Environment.Variables.{variable}"
            if variable in RUNTIME_NAMES:
                if variable == "STAGING_ENDPOINT_NAME" and variables.get("STAGING_ENABLED") != "true":
                    continue  # set, but no staging endpoint is ever created
                names.append(PhysicalName(RUNTIME_NAMES[variable], _concrete(value, where), where, "runtime"))
            elif variable == "PIPELINE_NAME":
                pipeline = _concrete(value, where)
                names += [
                    PhysicalName(namespace, pipeline + suffix, where, "prefix")
                    for namespace, suffix in PIPELINE_PREFIXES.items()
                ]
            elif LOOKS_LIKE_A_NAME.search(variable) and variable not in NOT_RUNTIME_NAMES:
                raise RenderError(
                    f"{where}: looks like the name of something the function creates: "
                    f"add it to RUNTIME_NAMES (compared) or NOT_RUNTIME_NAMES (with the reason)"
                )
    # One variable of several functions (ENDPOINT_NAME of deploy and serve) names one resource.
    return list({(n.namespace, n.name, n.kind, _variable(n)): n for n in names}.values())


def collisions(a: list[PhysicalName], b: list[PhysicalName]) -> list[tuple[PhysicalName, PhysicalName]]:
    return [(x, y) for x in a for y in b if x.overlaps(y)]


def _variable(name: PhysicalName) -> str:
    return name.source.rsplit(".", 1)[-1]


def duplicates_within(names: list[PhysicalName]) -> list[tuple[PhysicalName, PhysicalName]]:
    """Two different things of one stack under one name: two resources, or the
    runtime names of two variables (ENDPOINT_NAME = STAGING_ENDPOINT_NAME). A
    runtime name that is a resource of the stack (RETRAIN_SCHEDULE_GROUP, the
    group RetrainScheduleGroup) is that resource, not a second one."""
    found = []
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            if not x.overlaps(y):
                continue
            runtime = (x.kind == "runtime", y.kind == "runtime")
            if runtime == (False, False) or (runtime == (True, True) and _variable(x) != _variable(y)):
                found.append((x, y))
    return found


# ---------------------------------------------------------------------------
# The two pipelines

STACKS = {"mlops-a": "a", "mlops-b": "b"}
OIDC_PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"

# Scenario -> parameters of a pipeline (by its PipelineName); everything else
# at its default.
SCENARIOS: dict[str, Callable[[str], dict[str, str]]] = {
    # Only the required EcrRepositoryName, the same for both: two pipelines may
    # train from one existing repository (neither creates it).
    "defaults": lambda p: {"EcrRepositoryName": "ml-training"},
    # Every optional resource on, in both: the repository each creates, the
    # alert subscription, the GitHub Actions role with a provider of its own
    # (the documented exception: only one pipeline of an account may), staging,
    # the inference API (on by default).
    "everything-on": lambda p: {
        "EcrRepositoryName": f"{p}-training",
        "CreateImageRepository": "true",
        "AlertEmail": "ml-ops@example.com",
        "GitHubRepository": "example/ml-models",
        "CreateGitHubOidcProvider": "true",
        "StagingEnabled": "true",
        "SmokeTestRequestsS3Uri": "s3://example-samples/smoke/requests.jsonl",
        "CreateInferenceApi": "true",
        "AutoscalingMinInstances": "1",
        "AutoscalingMaxInstances": "2",
        "AutoscalingTargetInvocations": "100",
    },
    # As it should be done: pipeline a creates the OIDC provider, b names it.
    "one-oidc-provider": lambda p: {
        "EcrRepositoryName": f"{p}-training",
        "CreateImageRepository": "true",
        "GitHubRepository": "example/ml-models",
        **({"CreateGitHubOidcProvider": "true"} if p == "a" else {"GitHubOidcProviderArn": OIDC_PROVIDER_ARN}),
    },
    # Existing data bucket and execution role, no API, one custom bus shared by
    # both (rules are named per pipeline on it).
    "existing-resources": lambda p: {
        "EcrRepositoryName": "ml-training",
        "DataBucketName": f"{p}-ml-data",
        "SageMakerExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{p}-sagemaker",
        "CreateInferenceApi": "false",
        "EventBusName": "ml-events",
        "StagingEnabled": "true",
        "SmokeTestRequestsS3Uri": "s3://example-samples/smoke/requests.jsonl",
    },
}
# The collisions each scenario must show: exactly these (namespace, name),
# each in ALLOWED_SHARED.
EXPECTED_SHARED: dict[str, set[tuple[str, str]]] = {
    "everything-on": {("IAM OIDC provider (account-global, one per URL)", "https://token.actions.githubusercontent.com")},
}


@functools.lru_cache(maxsize=None)
def _decoded() -> dict:
    return template_rules.decode(str(TEMPLATE))


@functools.lru_cache(maxsize=None)
def _transformed(parameters: tuple[tuple[str, str], ...]) -> dict:
    # SAM's transform, as scripts/template_rules.py runs it for the demo.
    return template_rules._cloudformation(copy.deepcopy(_decoded()), dict(parameters))


def render(scenario: str, stack_name: str) -> Stack:
    pipeline = STACKS[stack_name]
    parameters = {"PipelineName": pipeline, **SCENARIOS[scenario](pipeline)}
    return Stack(_transformed(tuple(sorted(parameters.items()))), stack_name, parameters)


@functools.lru_cache(maxsize=None)
def _rendered(scenario: str) -> tuple[Stack, Stack]:
    a, b = STACKS
    return render(scenario, a), render(scenario, b)


def _show(pairs: list[tuple[PhysicalName, PhysicalName]]) -> str:
    return "\n".join(f"  {x}\n    = {y}" for x, y in pairs)


# ---------------------------------------------------------------------------
# Any two pipelines, not only a and b
#
# "a" and "b" never make one name out of another; "mlops" and "mlops-dev" might
# (mlops-dev-x = mlops + "-dev-x" = mlops-dev + "-x"). The stack is rendered once
# with markers for PipelineName and the stack name, which turns each name into
# a pattern <before><variable><after>; for each two patterns of a namespace, the
# values of the second variable that could make the first's name are tried
# (every piece of the first name where the variable would be), each a valid
# PipelineName or stack name.

PIPELINE_MARKER = "qqpipelineqq"
STACK_MARKER = "QQstackQQ"
# CloudFormation's stack names: a letter, then letters, digits and hyphens, up to 128.
STACK_NAME_PATTERN = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")


@dataclass(frozen=True)
class NamePattern:
    namespace: str
    kind: str
    before: str
    variable: str  # "PipelineName" or "stack name"
    after: str
    source: str

    def name(self, value: str) -> PhysicalName:
        return PhysicalName(self.namespace, f"{self.before}{value}{self.after}", self.source, self.kind)


def _valid(variable: str, value: str) -> bool:
    if variable == "stack name":
        return bool(STACK_NAME_PATTERN.fullmatch(value))
    spec = _decoded()["Parameters"]["PipelineName"]
    return bool(re.fullmatch(spec["AllowedPattern"], value)) and len(value) <= int(spec["MaxLength"])


def name_patterns(template: dict, parameters: dict[str, str]) -> list[NamePattern]:
    """The stack's names (not the generated ones) that are made of its
    PipelineName or its stack name, as patterns."""
    stack = Stack(template, STACK_MARKER, {**parameters, "PipelineName": PIPELINE_MARKER})
    patterns = []
    for name in physical_names(stack):
        if name.kind == "generated":
            continue  # unique by their random suffix
        found = [(m, v) for m, v in ((PIPELINE_MARKER, "PipelineName"), (STACK_MARKER, "stack name")) for _ in range(name.name.count(m))]
        if not found:
            continue  # a fixed name: the two stacks above compare it
        if len(found) > 1:
            raise RenderError(f"{name}: made of more than one of PipelineName and the stack name, not analysed")
        marker, variable = found[0]
        before, after = name.name.split(marker)
        patterns.append(NamePattern(name.namespace, name.kind, before, variable, after, name.source))
    return patterns


def collisions_of_any_two(patterns: list[NamePattern]) -> list[str]:
    found = []
    for x in patterns:
        for y in patterns:
            if x.namespace != y.namespace:
                continue
            # x's value: a short one, and one that starts where y's part of x's name does.
            firsts = {"p"}
            if y.before.startswith(x.before):
                firsts.add(y.before[len(x.before) :] + "p")
            for first in firsts:
                if not _valid(x.variable, first):
                    continue
                text = x.name(first).name
                seconds = set()
                if text.startswith(y.before):
                    rest = text[len(y.before) :]
                    for end in range(1, len(rest) + 1):
                        seconds |= {rest[:end], rest[:end] + "p", rest[:end] + "-p"}
                elif y.before.startswith(text):
                    seconds.add("p")
                for second in sorted(seconds):
                    same_value = x.variable == y.variable and first == second
                    if not same_value and _valid(y.variable, second) and x.name(first).overlaps(y.name(second)):
                        found.append(
                            f"{x.variable} {first!r}: {x.name(first)}\n    = {y.variable} {second!r}: {y.name(second)}"
                        )
    return found


# ---------------------------------------------------------------------------
# Tests: template.yaml


def test_every_resource_type_is_classified():
    for scenario in SCENARIOS:
        for stack in _rendered(scenario):
            assert unclassified_types(stack.template) == [], (
                "decide for each: NAMED (its name property and namespace) or UNNAMED (why no name)"
            )


def test_renderer_understands_every_intrinsic_of_the_template():
    # In every branch of every !If, taken or not.
    template = _rendered("defaults")[0].template
    unknown = {
        function: where for function, where in intrinsics_in(template).items() if function not in SUPPORTED_FUNCTIONS
    }
    assert unknown == {}, f"intrinsic functions the renderer does not know: {unknown}"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_two_pipelines_share_no_name(scenario):
    a, b = _rendered(scenario)
    names_a, names_b = physical_names(a), physical_names(b)
    # Something was compared: every kind of name is there.
    for names in (names_a, names_b):
        assert {"explicit", "generated", "runtime", "prefix"} <= {n.kind for n in names}
    found = collisions(names_a, names_b)
    shared = {(x.namespace, x.name) for x, _ in found}
    not_allowed = [(x, y) for x, y in found if (x.namespace, x.name) not in ALLOWED_SHARED]
    assert not not_allowed, f"{scenario}: stacks {a.stack_name} and {b.stack_name} collide on\n{_show(not_allowed)}"
    # The allowed ones are there when expected (the detector does see them).
    assert shared == EXPECTED_SHARED.get(scenario, set()), f"{scenario}: shared {shared}"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_name_twice_within_one_stack(scenario):
    for stack in _rendered(scenario):
        found = duplicates_within(physical_names(stack))
        assert not found, f"{scenario}, {stack.stack_name}:\n{_show(found)}"


def test_the_names_that_matter_are_compared():
    """The names the issue names, as rendered for pipeline a (stack mlops-a)."""
    names = {(n.namespace, n.name) for n in physical_names(_rendered("everything-on")[0])}
    expected = {
        ("KMS alias", "alias/a-mlops"),
        ("EventBridge rule on bus default", "a-ecr-image-push"),
        ("EventBridge rule on bus default", "a-new-training-data"),
        ("EventBridge rule on bus default", "a-training-job-finished"),
        ("EventBridge rule on bus default", "a-model-evaluation-passed"),
        ("EventBridge rule on bus default", "a-model-package-decided"),
        ("EventBridge rule on bus default", "a-endpoint-state-changed"),
        ("EventBridge rule on bus default", "a-deployment-check"),
        ("EventBridge rule on bus default", "a-training-job-failed"),
        ("EventBridge rule on bus default", "a-model-evaluation-failed"),
        ("EventBridge rule on bus default", "a-model-deployment-failed"),
        ("CloudWatch alarm", "a-mlops-undelivered-events"),
        ("CloudWatch alarm", "a-mlops-failed-invocations"),
        ("CloudWatch alarm", "a-mlops-failed-retraining-messages"),
        ("CloudWatch Logs log group", "/aws/lambda/mlops-a/trigger-model-training"),
        ("CloudWatch Logs log group", "/aws/lambda/mlops-a/retrain-model-on-new-data"),
        ("CloudWatch Logs log group", "/aws/lambda/mlops-a/evaluate-model"),
        ("CloudWatch Logs log group", "/aws/lambda/mlops-a/register-model-in-registry"),
        ("CloudWatch Logs log group", "/aws/lambda/mlops-a/deploy-sagemaker-model"),
        ("CloudWatch Logs log group", "/aws/lambda/mlops-a/serve-predictions"),
        ("CloudWatch Logs log group", "/aws/vendedlogs/mlops-a/inference-api-access"),
        ("EventBridge Scheduler schedule group", "a-retraining"),
        ("ECR repository", "a-training"),
        ("API Gateway API (name)", "mlops-a-inference"),
        ("S3 bucket (global)", "mlops-a-databucket-{random}"),
        ("IAM role (account-global)", "mlops-a-SageMakerExecutionRole-{random}"),
        ("IAM role (account-global)", "mlops-a-GitHubActionsRole-{random}"),
        ("IAM role (account-global)", "mlops-a-DeploySageMakerModelFunctionRole-{random}"),
        ("Lambda function", "mlops-a-DeploySageMakerModelFunction-{random}"),
        ("SQS queue", "mlops-a-RetrainQueue-{random}"),
        ("SNS topic", "mlops-a-AlertTopic-{random}"),
        ("SageMaker endpoint", "a--endpoint"),
        ("SageMaker endpoint", "a--staging-endpoint"),
        ("SageMaker model package group", "a--models"),
        ("SageMaker training job", "a--"),
        ("SageMaker model", "a--model-"),
        ("SageMaker endpoint configuration", "a--epc-"),
        ("IAM OIDC provider (account-global, one per URL)", "https://token.actions.githubusercontent.com"),
    }
    assert expected <= names, f"not rendered: {sorted(expected - names)}"


def test_scenarios_cover_every_resource():
    """Every resource of the template exists in some scenario, so its name is compared."""
    declared: set[str] = set()
    rendered: set[str] = set()
    for scenario in SCENARIOS:
        for stack in _rendered(scenario):
            declared |= set(stack.declared)
            rendered |= set(stack.resources)
    assert declared - rendered == set(), "no scenario creates these: add one that does"


def test_the_user_given_names_are_compared_at_their_defaults():
    """DataBucketName, EndpointName, StagingEndpointName, ModelPackageGroupName
    are the user's choice; at their default (empty) they become names of the
    pipeline, which test_two_pipelines_share_no_name compares."""
    for stack in _rendered("everything-on"):
        for parameter in ("DataBucketName", "EndpointName", "StagingEndpointName", "ModelPackageGroupName"):
            assert stack.parameters[parameter] == "", parameter


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_two_pipeline_names_make_one_name(scenario):
    """PipelineNames (and stack names) that are prefixes of one another, e.g.
    mlops and mlops-dev, still get names of their own."""
    parameters = SCENARIOS[scenario](PIPELINE_MARKER)
    patterns = name_patterns(_transformed(tuple(sorted({**parameters, "PipelineName": PIPELINE_MARKER}.items()))), parameters)
    assert {p.variable for p in patterns} == {"PipelineName", "stack name"}
    found = collisions_of_any_two(patterns)
    assert not found, f"{scenario}:\n" + "\n".join(found)


# ---------------------------------------------------------------------------
# Tests: the test itself


def _inline(resources: dict, stack_name: str, pipeline: str = "p") -> Stack:
    template = {
        "Parameters": {"PipelineName": {"Type": "String"}},
        "Conditions": {"IsA": {"Fn::Equals": [{"Ref": "PipelineName"}, "a"]}},
        "Resources": resources,
    }
    return Stack(template, stack_name, {"PipelineName": pipeline})


def _inline_collisions(resources: dict) -> list[tuple[PhysicalName, PhysicalName]]:
    return collisions(
        physical_names(_inline(resources, "mlops-a", "a")), physical_names(_inline(resources, "mlops-b", "b"))
    )


def test_a_fixed_bucket_name_is_reported():
    found = _inline_collisions({"Data": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "fixed-bucket"}}})
    assert [(x.namespace, x.name, y.name) for x, y in found] == [
        ("S3 bucket (global)", "fixed-bucket", "fixed-bucket")
    ]


def test_names_of_the_stack_or_pipeline_are_not_reported():
    found = _inline_collisions(
        {
            "Data": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": "${AWS::StackName}-data"}}},
            "Generated": {"Type": "AWS::S3::Bucket"},
            "Alias": {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": {"Fn::Sub": "alias/${PipelineName}"}}},
        }
    )
    assert found == []


def test_a_fixed_name_in_a_branch_taken_by_both_is_reported():
    rule = {
        "Type": "AWS::Events::Rule",
        "Properties": {"Name": {"Fn::If": ["IsA", {"Fn::Sub": "${PipelineName}-rule"}, "fixed-rule"]}},
    }
    # Pipeline a takes the first branch, b the second: no collision...
    assert _inline_collisions({"Rule": rule}) == []
    # ...but two pipelines that are not "a" both get "fixed-rule".
    names = [physical_names(_inline({"Rule": rule}, stack, pipeline)) for stack, pipeline in (("s1", "x"), ("s2", "y"))]
    assert [(x.name, y.name) for x, y in collisions(*names)] == [("fixed-rule", "fixed-rule")]


def test_rules_on_different_buses_do_not_collide():
    def rule(bus: str) -> dict:
        return {"Type": "AWS::Events::Rule", "Properties": {"Name": "same", "EventBusName": bus}}

    a = physical_names(_inline({"R": rule("bus-a")}, "mlops-a"))
    b = physical_names(_inline({"R": rule("bus-b")}, "mlops-b"))
    assert collisions(a, b) == []


def test_a_fixed_endpoint_name_in_the_environment_is_reported():
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Environment": {"Variables": {"ENDPOINT_NAME": "shared-endpoint", "PIPELINE_NAME": "x"}}},
    }
    found = _inline_collisions({"F": function})
    # One endpoint, and the SageMaker prefixes of two pipelines both named "x".
    assert sorted((x.namespace, x.name) for x, _ in found) == [
        ("SageMaker endpoint", "shared-endpoint"),
        ("SageMaker endpoint configuration", "x--epc-"),
        ("SageMaker model", "x--model-"),
        ("SageMaker training job", "x--"),
    ]


def test_overlapping_pipeline_prefixes_are_reported():
    prefix = functools.partial(PhysicalName, "SageMaker training job", source="test", kind="prefix")
    assert prefix("ml--").overlaps(prefix("ml--dev--"))  # what a "--" in a PipelineName would allow
    assert not prefix("ml--").overlaps(prefix("ml-dev--"))


def test_a_name_that_ends_another_is_reported():
    def rule(suffix: str) -> dict:
        return {"Type": "AWS::Events::Rule", "Properties": {"Name": {"Fn::Sub": "${PipelineName}" + suffix}}}

    template = {"Parameters": {"PipelineName": {"Type": "String"}}, "Resources": {}}
    template["Resources"] = {"Failed": rule("-deployment-failed"), "ModelFailed": rule("-model-deployment-failed")}
    found = collisions_of_any_two(name_patterns(template, {}))
    assert any("'p': EventBridge rule on bus default: 'p-model-deployment-failed'" in f and "'p-model'" in f for f in found)
    # The same with stack names (mlops and mlops-public), and across the two:
    # stack "p" of one pipeline, PipelineName "p" of another.
    def log_group(name: str) -> dict:
        return {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": name}}}

    template["Resources"] = {
        "Api": log_group("/aws/x/${AWS::StackName}-api"),
        "PublicApi": log_group("/aws/x/${AWS::StackName}-public-api"),
    }
    assert any("stack name 'p-public'" in f for f in collisions_of_any_two(name_patterns(template, {})))
    template["Resources"] = {"ByStack": log_group("/aws/x/${AWS::StackName}"), "ByPipeline": log_group("/aws/x/${PipelineName}")}
    assert any("PipelineName 'p'" in f and "stack name 'p'" in f for f in collisions_of_any_two(name_patterns(template, {})))
    template["Resources"] = {"Ok": rule("-deployment-failed"), "AlsoOk": rule("-model-evaluation-failed")}
    assert collisions_of_any_two(name_patterns(template, {})) == []


def test_an_unknown_environment_name_fails():
    function = {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {"QUEUE_NAME": "q"}}}}
    with pytest.raises(RenderError, match="QUEUE_NAME.*RUNTIME_NAMES"):
        physical_names(_inline({"F": function}, "mlops-a"))


@pytest.mark.parametrize(
    "name, message",
    [
        ({"Fn::ImportValue": "shared-bucket"}, "does not know the intrinsic function Fn::ImportValue"),
        ({"Fn::Sub": "${NoSuchParameter}-data"}, "no such parameter or resource 'NoSuchParameter'"),
        ({"Ref": "AWS::NoSuchPseudo"}, "does not know the pseudo parameter"),
        ({"Fn::GetAtt": ["Other", "Arn"]}, "built from an attribute"),
        ({"Fn::Select": [2, ["x"]]}, "outside"),
        ({"Fn::If": ["NoSuchCondition", "x", "y"]}, "no such condition"),
        ({"Fn::Sub": "x", "Ref": "PipelineName"}, "must be the only key"),
    ],
)
def test_what_the_renderer_cannot_render_fails(name, message):
    resources = {
        "Data": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}},
        "Other": {"Type": "AWS::SQS::Queue"},
    }
    with pytest.raises(RenderError, match=re.escape(message)):
        physical_names(_inline(resources, "mlops-a"))


def test_an_unclassified_resource_type_fails():
    with pytest.raises(RenderError, match="AWS::DynamoDB::Table"):
        physical_names(_inline({"T": {"Type": "AWS::DynamoDB::Table"}}, "mlops-a"))


def test_parameters_are_checked_as_cloudformation_does():
    with pytest.raises(RenderError, match="PipelineName='Has Spaces' does not match"):
        render_with = {"PipelineName": "Has Spaces", "EcrRepositoryName": "ml-training"}
        Stack(_transformed(tuple(sorted(render_with.items()))), "mlops-a", render_with)
    # The template's Rules: a GitHub role needs an OIDC provider.
    parameters = {"PipelineName": "a", "EcrRepositoryName": "ml-training", "GitHubRepository": "example/ml-models"}
    with pytest.raises(RenderError, match="GitHubRoleNeedsOidcProvider"):
        Stack(_transformed(tuple(sorted(parameters.items()))), "mlops-a", parameters)
