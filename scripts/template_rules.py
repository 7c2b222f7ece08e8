"""The pipeline's EventBridge rules and SQS event source mappings, read from
template.yaml as a deployment with given parameter values would create them.

Used by scripts/demo_aws.py (the `rules` command) and its tests: the demo
creates these rules in the local emulator's EventBridge, so the routing between
the stages is the template's, not a copy of it. The emulator's Lambda pollers
(tests/emulator/lambda_pollers.py) take a function's SQS batching settings from
`event_source_mappings`.

    rules = template_rules.load("template.yaml", {"EcrRepositoryName": "mlops-training"})
    mappings = template_rules.event_source_mappings("template.yaml", {...})

* The template is decoded by cfn-lint's own decoder (in the project's venv), so
  every CloudFormation short form (!Ref, !Sub, !If, !GetAtt, ...) is understood.
* SAM's own transform (aws-sam-translator, the library behind SAM CLI) turns
  it into plain CloudFormation: each function's EventBridgeRule event becomes
  the AWS::Events::Rule that SAM deploys, with its generated logical id,
  target, retry policy and dead-letter queue.
* cloud-radar then renders that template for the parameter values given (else
  the defaults; a parameter without either is an error, as is a value its
  AllowedPattern or AllowedValues refuses): conditions, !If, !Sub, !Select,
  !Equals, ... and pseudo parameters (the emulator's: us-east-1, account
  123456789012). A resource whose Condition is false contributes no rule.
* A `!Ref` to a resource of the stack has a value only through `resources`
  (e.g. {"DataBucket": "my-bucket"}); one that ends up in a rule without it is
  an error naming it. cloud-radar renders a `!GetAtt` as "Resource.Attribute":
  that is how a target's Arn names the resource it invokes (anywhere else in a
  rule it would stay that text, and match nothing).
* Every AWS::Events::Rule with an EventPattern is a rule; each target is the
  function it invokes (by its cargo-lambda binary,
  Metadata.BuildProperties.Binary) or another resource (e.g. an SNS topic),
  with its InputTransformer.
* Every pattern is checked the way EventBridge checks one at PutRule (see
  `check_pattern`), because the emulator is more lenient: moto 5.2.5 lets an
  operator it does not know match any value.
* `event_source_mappings`: every AWS::Lambda::EventSourceMapping, whether
  written as such (template.yaml declares retrain_model_on_new_data's, so that
  its role's SQS permissions can be scoped to the queue) or made by SAM of a
  function's `Type: SQS` event (<function><event>), rendered the
  same way, per function it invokes: the queue, and the settings the
  emulator's pollers take (`BatchSize`, `MaximumBatchingWindowInSeconds`,
  `ScalingConfig.MaximumConcurrency`, `FunctionResponseTypes`) as they resolve,
  the ones the template leaves out absent (the caller's defaults apply).
* `render_resource`: any one plain CloudFormation resource rendered the same
  way (without SAM's transform), e.g. the dashboard, whose body
  tests/emulator/test_dashboard.py and scripts/render_dashboard.py read.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
STACK_NAME = "mlops-demo"


class TemplateError(Exception):
    """The template cannot be read as the demo needs it: the message says where and why."""


@dataclass
class Target:
    id: str
    resource: str  # logical id of what the rule invokes
    function: str | None  # the cargo-lambda binary when the target is a function
    kind: str  # the target resource's Type, as the template declares it
    input_transformer: dict | None = None


@dataclass
class Rule:
    name: str
    bus: str
    pattern: dict
    where: str  # e.g. Resources.TriggerModelTrainingFunction.Properties.Events.EcrImagePush
    targets: list[Target] = field(default_factory=list)
    state: str = "ENABLED"

    @property
    def functions(self) -> list[str]:
        return [t.function for t in self.targets if t.function]

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "bus": self.bus,
            "pattern": self.pattern,
            "where": self.where,
            "state": self.state,
            "targets": [t.__dict__ for t in self.targets],
        }


@dataclass
class EventSourceMapping:
    name: str  # logical id of the AWS::Lambda::EventSourceMapping (SAM: <function><event>)
    function: str  # logical id of the function it invokes
    binary: str | None  # the function's cargo-lambda binary
    queue: str  # logical id of the queue (a !GetAtt of its Arn), else the EventSourceArn as rendered
    where: str  # Resources.<function>.Properties.Events.<event> for SAM's, else Resources.<id> (declared as such)
    # BatchSize, MaximumBatchingWindowInSeconds, ScalingConfig {MaximumConcurrency},
    # FunctionResponseTypes: those the template sets, integers as integers
    settings: dict = field(default_factory=dict)
    enabled: bool = True
    filter_criteria: dict | None = None


def decode(path: str) -> dict:
    from cfnlint.decode import decode as cfn_decode  # the venv's cfn-lint

    template, problems = cfn_decode(path)
    if template is None or problems:
        raise TemplateError(f"{path} cannot be decoded: {'; '.join(str(p) for p in problems)}")
    if not isinstance(template, dict):
        raise TemplateError(f"{path} is not a template: not a YAML or JSON object")
    return template


# ---------------------------------------------------------------------------
# patterns

# EventBridge's content-filter operators; moto 5.2.5 implements all of them.
OPERATORS = {
    "prefix",
    "suffix",
    "equals-ignore-case",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
    "wildcard",
}


# What tests/emulator/test_demo_chain.py checks the emulator's EventBridge
# (moto 5.2.5) matches as EventBridge does, with cases from EventBridge's
# documentation. "exact" is plain values (strings, booleans); moto's one
# looseness there, `[true]` also matching the number 1, does not arise with the
# pipeline's events, which carry JSON booleans. Not listed: "numeric", which
# moto also lets match JSON booleans (true as 1), and "cidr", unchecked.
EMULATOR_VERIFIED = {
    "exact",
    "prefix",
    "suffix",
    "wildcard",
    "anything-but",
    "exists",
    "equals-ignore-case",
    "$or",
}


def _patterns_in(template: dict) -> list[tuple[str, str, Any]]:
    """Every rule pattern of the template, unresolved: (logical id of the
    AWS::Events::Rule as deployed, where it is written, pattern). SAM names the
    rule of a function's event <function><event>."""
    found = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Events::Rule" and "EventPattern" in properties:
            found.append((logical_id, f"Resources.{logical_id}", properties["EventPattern"]))
        for event_id, event in (properties.get("Events") or {}).items() if isinstance(properties.get("Events"), dict) else []:
            if event.get("Type") in ("EventBridgeRule", "CloudWatchEvent"):
                where = f"Resources.{logical_id}.Properties.Events.{event_id}"
                found.append((f"{logical_id}{event_id}", where, (event.get("Properties") or {}).get("Pattern")))
    return found


def operators_in_template(template: dict) -> set[str]:
    """The operators the template's patterns use, in every branch of every !If
    (whatever the parameters): "exact", "$or" and names from OPERATORS."""
    used = {"exact"}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in OPERATORS or key == "$or":
                    used.add(str(key))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for _, _, pattern in _patterns_in(template):
        walk(pattern)
    return used


def check_pattern(pattern: Any, where: str = "") -> set[str]:
    """Checks an event pattern as EventBridge does at PutRule (the parts the
    demo can get wrong) and returns the operators it uses: "exact" for plain
    values, "$or", and the names in OPERATORS. Raises TemplateError naming the
    path of the first problem."""
    used: set[str] = set()

    def fail(path: str, problem: str) -> None:
        raise TemplateError(f"{where}: event pattern at {path or '(top)'}: {problem}")

    def node(value: Any, path: str) -> None:
        if not isinstance(value, dict) or not value:
            fail(path, "must be a non-empty object")
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if key == "$or":
                if not isinstance(item, list) or len(item) < 2:
                    fail(sub, "$or needs an array of at least two patterns")
                used.add("$or")
                for i, alternative in enumerate(item):
                    node(alternative, f"{sub}[{i}]")
            elif isinstance(item, dict):
                node(item, sub)
            elif isinstance(item, list):
                if not item:
                    fail(sub, "empty arrays are not allowed")
                for element in item:
                    match_value(element, sub)
            else:
                fail(sub, f"must be an object or an array, not {json.dumps(item)}")

    def match_value(element: Any, path: str) -> None:
        if element is None or isinstance(element, (str, bool, int, float)):
            used.add("exact")
            return
        if not isinstance(element, dict) or len(element) != 1:
            fail(path, f"{json.dumps(element)} is neither a value nor one operator")
        (operator, argument), = element.items()
        if operator not in OPERATORS:
            fail(path, f"unknown operator {operator!r} (EventBridge knows {', '.join(sorted(OPERATORS))})")
        used.add(operator)
        if operator in ("prefix", "suffix", "wildcard", "equals-ignore-case", "cidr"):
            if isinstance(argument, dict) and operator in ("prefix", "suffix") and list(argument) == ["equals-ignore-case"]:
                used.add("equals-ignore-case")
                argument = argument["equals-ignore-case"]
            if not isinstance(argument, str):
                fail(path, f"{operator} takes a string, not {json.dumps(argument)}")
        elif operator == "exists":
            if not isinstance(argument, bool):
                fail(path, f"exists takes true or false, not {json.dumps(argument)}")
        elif operator == "numeric":
            if not isinstance(argument, list) or len(argument) not in (2, 4):
                fail(path, "numeric takes [op, number] or [op, number, op, number]")
        elif operator == "anything-but":
            if isinstance(argument, dict):
                if len(argument) != 1 or next(iter(argument)) not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
                    fail(path, f"anything-but cannot take {json.dumps(argument)}")
                used.add(next(iter(argument)))
            elif isinstance(argument, list):
                if not argument:
                    fail(path, "anything-but takes a non-empty array")

    node(pattern, "")
    return used


# ---------------------------------------------------------------------------
# rules

# What a `!Ref` to a resource renders to when the caller gave it no value: no
# rule may keep it (cloud-radar's own stand-in, the logical id, would pass for
# a real value).
_UNRESOLVED = "<!Ref {}>"
# cloud-radar's AWS::NoValue is "", so a property whose value is "" would vanish
# too; this one is no value a template has.
_NO_VALUE = "<AWS::NoValue>"


def _cloudformation(template: dict, parameters: dict[str, str]) -> dict:
    """The template as plain CloudFormation, by SAM's own transform."""
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = copy.deepcopy(template)  # the transform changes its input; callers keep theirs
    for logical_id, resource in (sam.get("Resources") or {}).items():
        properties = resource.get("Properties") or {}
        code = properties.get("CodeUri")
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(code, str) and not code.startswith("s3://"):
            # A local CodeUri (`.`: cargo-lambda builds it) is what `sam package`
            # uploads and replaces by its S3 location, the only form the transform takes.
            properties["CodeUri"] = f"s3://{STACK_NAME}-code/{logical_id}.zip"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    try:
        # No AWS managed policy is looked up by name (that asks IAM): none matters to a rule.
        return translator.translate(sam, parameter_values=parameters, get_managed_policy_map=dict)
    except InvalidDocumentException as err:
        raise TemplateError(f"SAM's transform: {'; '.join(cause.message for cause in err.causes)}") from None
    finally:
        translator.metrics.publish()  # SAM's timings, to its no-op publisher (else a warning at exit)


def _render(
    cloudformation: dict, parameters: dict[str, str], refs: dict[str, str], kind: str, region: str = REGION
) -> dict:
    """The template's resources of type `kind` (e.g. AWS::Events::Rule) with
    every intrinsic function resolved by cloud-radar for these parameter
    values; `refs`: each resource's !Ref value; `region`: AWS::Region's."""
    import yaml
    from cloud_radar.cf.unit import Template

    # Only those resources are rendered; every other one is just a name for a
    # !Ref or !GetAtt to point at, with its !Ref value where cloud-radar looks.
    template = {key: cloudformation[key] for key in ("Parameters", "Mappings", "Conditions") if key in cloudformation}
    template["Resources"] = {
        logical_id: {
            **(resource if resource["Type"] == kind else {"Type": resource["Type"]}),
            "Metadata": {"Cloud-Radar": {"ref": refs[logical_id]}},
        }
        for logical_id, resource in cloudformation["Resources"].items()
    }
    template = json.loads(json.dumps(template))  # plain dicts and strs: cloud-radar copies it through YAML
    with contextlib.redirect_stdout(io.StringIO()):  # cloud-radar 0.17.0 prints every Template it makes
        stack = Template(template)
    # render() starts again from this YAML copy, which cloud-radar dumps with
    # sorted keys: keep the template's order (the demo shows the patterns).
    stack.raw = yaml.dump(template, sort_keys=False)
    stack.AccountId, stack.StackName, stack.NoValue = ACCOUNT, STACK_NAME, _NO_VALUE
    try:
        return _without_no_value(stack.create_stack(parameters, region=region).data)
    except (ValueError, KeyError, TypeError) as err:  # what cloud-radar raises for a parameter or a function
        raise TemplateError(f"cloud-radar: {err}") from None


def _without_no_value(node: Any) -> Any:
    """CloudFormation drops AWS::NoValue from lists as from objects; cloud-radar
    0.17.0 drops it from objects only."""
    if isinstance(node, dict):
        return {key: _without_no_value(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_without_no_value(item) for item in node if item != _NO_VALUE]
    return node


def _function_binary(resource: dict) -> str | None:
    if resource.get("Type") != "AWS::Serverless::Function":
        return None
    binary = ((resource.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
    return str(binary) if binary else None


def load(
    path: str,
    parameters: dict[str, str],
    resources: dict[str, str] | None = None,
    template: dict | None = None,
) -> list[Rule]:
    template = template if template is not None else decode(path)
    parameters = {name: str(value) for name, value in parameters.items()}
    cloudformation = _cloudformation(template, parameters)
    refs = {
        logical_id: (resources or {}).get(logical_id, _UNRESOLVED.format(logical_id))
        for logical_id in cloudformation["Resources"]
    }
    rendered = _render(cloudformation, parameters, refs, "AWS::Events::Rule")["Resources"]
    by_ref = {value: logical_id for logical_id, value in refs.items()}
    # Targets are told by kind and binary as the template declares them (a
    # function is AWS::Serverless::Function there, AWS::Lambda::Function here).
    declared = {**rendered, **(template.get("Resources") or {})}
    where_written = {logical_id: where for logical_id, where, _ in _patterns_in(template)}

    rules = []
    # In the order the template writes them (SAM puts the rules it makes last).
    for logical_id in dict.fromkeys([*where_written, *rendered]):
        resource = rendered.get(logical_id) or {}  # none: its Condition is false
        properties = resource.get("Properties") or {}
        if resource.get("Type") != "AWS::Events::Rule" or "EventPattern" not in properties:
            continue  # not a rule, or a schedule
        where = where_written.get(logical_id, f"Resources.{logical_id}")
        targets = []
        for target in properties.get("Targets") or []:
            twhere = f"{where}, target {target.get('Id')}"
            for unsupported in ("Input", "InputPath"):
                if unsupported in target:
                    raise TemplateError(f"{twhere}: {unsupported} is not modelled by the demo")
            # A !Ref renders to the resource's ref value, a !GetAtt to "Resource.Arn".
            target_id = by_ref.get(target["Arn"], str(target["Arn"]).removesuffix(".Arn"))
            if target_id not in declared:
                raise TemplateError(f"{twhere}: Arn {target['Arn']!r} is not !GetAtt/!Ref of a resource")
            targets.append(
                Target(
                    id=str(target["Id"]),
                    resource=target_id,
                    function=_function_binary(declared[target_id]),
                    kind=str(declared[target_id].get("Type")),
                    input_transformer=target.get("InputTransformer"),
                )
            )
        pattern = properties["EventPattern"]
        rule = Rule(
            name=str(properties.get("Name", logical_id)),
            bus=str(properties.get("EventBusName", "default")),
            pattern=json.loads(pattern) if isinstance(pattern, str) else pattern,
            where=where,
            state=str(properties.get("State", "ENABLED")),
            targets=targets,
        )
        shown = json.dumps([rule.name, rule.bus, rule.pattern, [t.input_transformer for t in targets]])
        if unresolved := re.search(r"<!Ref (\w+)>", shown):
            raise TemplateError(
                f"{where}: !Ref {unresolved[1]} names a resource: the demo resolves only parameters "
                f"(give the resource a value, or the parameter that replaces it)"
            )
        check_pattern(rule.pattern, where)
        rules.append(rule)
    return rules


# ---------------------------------------------------------------------------
# SQS event source mappings

_MAPPING_INTEGERS = ("BatchSize", "MaximumBatchingWindowInSeconds")


def _integer(value: Any, where: str) -> int:
    """A rendered number (a parameter renders as its string) as an integer."""
    text = str(value)
    if isinstance(value, bool) or not re.fullmatch(r"-?[0-9]+", text):
        raise TemplateError(f"{where}: {value!r} is not an integer")
    return int(text)


def _mapping_settings(properties: dict, where: str) -> dict:
    settings: dict[str, Any] = {
        key: _integer(properties[key], f"{where}: {key}") for key in _MAPPING_INTEGERS if key in properties
    }
    scaling = properties.get("ScalingConfig") or {}
    if "MaximumConcurrency" in scaling:
        concurrency = _integer(scaling["MaximumConcurrency"], f"{where}: ScalingConfig.MaximumConcurrency")
        settings["ScalingConfig"] = {"MaximumConcurrency": concurrency}
    if "FunctionResponseTypes" in properties:
        settings["FunctionResponseTypes"] = [str(kind) for kind in properties["FunctionResponseTypes"]]
    return settings


def event_source_mappings(
    path: str, parameters: dict[str, str], template: dict | None = None
) -> dict[str, list[EventSourceMapping]]:
    """The template's SQS event source mappings (every AWS::Lambda::EventSourceMapping
    whose EventSourceArn is an SQS queue's) for these parameter values, by the
    logical id of the function each invokes, in the order the template writes them."""
    template = template if template is not None else decode(path)
    parameters = {name: str(value) for name, value in parameters.items()}
    cloudformation = _cloudformation(template, parameters)
    refs = {logical_id: _UNRESOLVED.format(logical_id) for logical_id in cloudformation["Resources"]}
    rendered = _render(cloudformation, parameters, refs, "AWS::Lambda::EventSourceMapping")["Resources"]
    by_ref = {value: logical_id for logical_id, value in refs.items()}
    declared = template.get("Resources") or {}
    where_written = {
        f"{logical_id}{event_id}": f"Resources.{logical_id}.Properties.Events.{event_id}"
        for logical_id, resource in declared.items()
        for event_id, event in ((resource.get("Properties") or {}).get("Events") or {}).items()
        if isinstance(event, dict) and event.get("Type") == "SQS"
    }

    found: dict[str, list[EventSourceMapping]] = {}
    for logical_id in dict.fromkeys([*where_written, *rendered]):
        resource = rendered.get(logical_id) or {}  # none: its Condition is false
        if resource.get("Type") != "AWS::Lambda::EventSourceMapping":
            continue
        properties = resource.get("Properties") or {}
        where = where_written.get(logical_id, f"Resources.{logical_id}")
        # A !Ref renders to the resource's ref value, a !GetAtt to "Resource.Attribute".
        source = str(properties.get("EventSourceArn"))
        queue = source.removesuffix(".Arn")
        if (declared.get(queue) or {}).get("Type") != "AWS::SQS::Queue" and ":sqs:" not in source:
            continue  # a stream, Kafka, MQ, ...: not an SQS event source
        function_name = str(properties.get("FunctionName"))
        function = by_ref.get(function_name, function_name.removesuffix(".Arn"))
        if function not in declared:
            raise TemplateError(f"{where}: FunctionName {function_name!r} is not !Ref/!GetAtt of a function")
        found.setdefault(function, []).append(
            EventSourceMapping(
                name=logical_id,
                function=function,
                binary=_function_binary(declared[function]),
                queue=queue if queue in declared else source,
                where=where,
                settings=_mapping_settings(properties, where),
                enabled=str(properties.get("Enabled", True)).lower() != "false",
                filter_criteria=properties.get("FilterCriteria"),
            )
        )
    return found


# ---------------------------------------------------------------------------
# any one resource


def render_resource(
    path: str,
    parameters: dict[str, str],
    logical_id: str,
    resources: dict[str, str] | None = None,
    template: dict | None = None,
    region: str = REGION,
) -> dict | None:
    """One resource of the template (a plain CloudFormation one: SAM's
    transform is not applied, its resources are only names here) as a
    deployment with these parameter values would create it, every intrinsic
    function resolved by cloud-radar, in `region`; None when its Condition is
    false. A `!Ref` to a resource is its value in `resources`, else
    "<!Ref Name>"; a `!GetAtt` renders as "Name.Attribute". Used by
    tests/emulator/test_dashboard.py and scripts/render_dashboard.py (the
    dashboard's body)."""
    template = template if template is not None else decode(path)
    declared = template.get("Resources") or {}
    if logical_id not in declared:
        raise TemplateError(f"{path}: no resource {logical_id}")
    # Only this resource keeps its definition; the others of its type are names too.
    only = {
        **template,
        "Resources": {
            other: resource if other == logical_id else {"Type": resource.get("Type")}
            for other, resource in declared.items()
        },
    }
    parameters = {name: str(value) for name, value in parameters.items()}
    refs = {other: (resources or {}).get(other, _UNRESOLVED.format(other)) for other in declared}
    rendered = _render(only, parameters, refs, str(declared[logical_id].get("Type")), region)["Resources"]
    return rendered.get(logical_id)
