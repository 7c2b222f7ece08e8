"""The pipeline's EventBridge rules, read from template.yaml.

Used by scripts/demo_aws.py (the `rules` command) and its tests: the demo
creates these rules in the local emulator's EventBridge, so the routing between
the stages is the template's, not a copy of it.

    rules = template_rules.load("template.yaml", {"EcrRepositoryName": "mlops-training"})

* The template is decoded by cfn-lint's own decoder (in the project's venv), so
  every CloudFormation short form (!Ref, !Sub, !If, !GetAtt, ...) is understood.
* Parameters take the values given, else their defaults; a parameter that a
  rule needs and that has neither is an error naming it. Pseudo parameters
  are the emulator's (us-east-1, account 123456789012, partition aws).
* Conditions are evaluated with those values (!Equals, !Not, !And, !Or,
  !Condition, and !Select/!Split/!Join inside them); `!If` takes the branch
  they select and `AWS::NoValue` drops the element. A resource or condition
  whose Condition is false contributes no rule.
* A `!Ref` to a resource or a `!GetAtt` resolves only through `resources`
  (e.g. {"DataBucket": "my-bucket"}); otherwise it is an error naming it.
* Rules come from SAM functions' `Events` of type EventBridgeRule (or its old
  name CloudWatchEvent) and from AWS::Events::Rule resources; each target is
  the function it invokes (by its cargo-lambda binary, Metadata.BuildProperties.Binary)
  or another resource (e.g. an SNS topic), with its InputTransformer.
* Every pattern is checked the way EventBridge checks one at PutRule (see
  `check_pattern`), because the emulator is more lenient: moto 5.2.5 lets an
  operator it does not know match any value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "mlops-demo",
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/mlops-demo/00000000-0000-0000-0000-000000000000",
}


class TemplateError(Exception):
    """The template cannot be read as the demo needs it: the message says where and why."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass
class Target:
    id: str
    resource: str  # logical id of what the rule invokes
    function: str | None  # the cargo-lambda binary when the target is a function
    kind: str  # the target resource's Type
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


def decode(path: str) -> dict:
    from cfnlint.decode import decode as cfn_decode  # the venv's cfn-lint

    template, problems = cfn_decode(path)
    if template is None or problems:
        raise TemplateError(f"{path} cannot be decoded: {'; '.join(str(p) for p in problems)}")
    return template


class Resolver:
    """Resolves intrinsic functions for one set of parameter values."""

    def __init__(self, template: dict, parameters: dict[str, str], resources: dict[str, str] | None = None):
        self.template = template
        self.declared = template.get("Parameters") or {}
        unknown = sorted(set(parameters) - set(self.declared))
        if unknown:
            raise TemplateError(f"the template declares no parameter {', '.join(unknown)}")
        self.parameters = {k: str(v) for k, v in parameters.items()}
        self.resources = dict(resources or {})
        self._conditions: dict[str, bool] = {}

    # -- values ---------------------------------------------------------------

    def parameter(self, name: str) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            return self.parameters[name]
        declared = self.declared.get(name)
        if declared is None:
            raise TemplateError(f"!Ref {name}: no such parameter")
        if "Default" not in declared:
            raise TemplateError(f"parameter {name} has no default: the demo must give it a value")
        default = declared["Default"]
        return json.dumps(default) if isinstance(default, bool) else str(default)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO or name in self.declared:
            return self.parameter(name)
        if name in self.resources:
            return self.resources[name]
        if name in (self.template.get("Resources") or {}):
            raise TemplateError(
                f"!Ref {name} names a resource: the demo resolves only parameters "
                f"(give the resource a value, or the parameter that replaces it)"
            )
        raise TemplateError(f"!Ref {name}: no such parameter or resource")

    def get_att(self, spec: Any) -> Any:
        if isinstance(spec, str):
            spec = spec.split(".", 1)
        name = ".".join(str(self.value(part)) for part in spec)
        if name in self.resources:
            return self.resources[name]
        raise TemplateError(f"!GetAtt {name}: the demo has no value for it")

    def sub(self, spec: Any) -> str:
        if isinstance(spec, list):
            text, variables = spec[0], {k: self.value(v) for k, v in (spec[1] or {}).items()}
        else:
            text, variables = spec, {}

        def replace(match: re.Match) -> str:
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"  # ${!Literal}
            if inner in variables:
                return str(variables[inner])
            if "." in inner and inner not in PSEUDO:
                return str(self.get_att(inner))
            return str(self.ref(inner))

        return re.sub(r"\$\{([^}]*)\}", replace, text)

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"no condition {name}")
            self._conditions[name] = bool(self.value(conditions[name]))
        return self._conditions[name]

    def value(self, node: Any) -> Any:
        """The node with every intrinsic function resolved; NO_VALUE elements dropped."""
        if isinstance(node, dict):
            if len(node) == 1:
                (key, arg), = node.items()
                function = INTRINSICS.get(key)
                if function is not None:
                    return function(self, arg)
            resolved = {str(k): self.value(v) for k, v in node.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        if isinstance(node, str):
            return str(node)  # cfn-lint's str_node, as a plain str
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        return node


def _select(r: Resolver, arg: list) -> Any:
    index, items = int(r.value(arg[0])), r.value(arg[1])
    return items[index]


def _equals(r: Resolver, arg: list) -> bool:
    left, right = (r.value(a) for a in arg)
    return str(left) == str(right)


INTRINSICS = {
    "Ref": lambda r, arg: r.ref(arg),
    "Fn::Sub": lambda r, arg: r.sub(arg),
    "Fn::GetAtt": lambda r, arg: r.get_att(arg),
    "Fn::If": lambda r, arg: r.value(arg[1] if r.condition(arg[0]) else arg[2]),
    "Fn::Join": lambda r, arg: str(r.value(arg[0])).join(str(v) for v in r.value(arg[1])),
    "Fn::Split": lambda r, arg: str(r.value(arg[1])).split(str(r.value(arg[0]))),
    "Fn::Select": _select,
    "Fn::Equals": _equals,
    "Fn::Not": lambda r, arg: not r.value(arg[0]),
    "Fn::And": lambda r, arg: all(r.value(a) for a in arg),
    "Fn::Or": lambda r, arg: any(r.value(a) for a in arg),
    "Condition": lambda r, arg: r.condition(arg),
}


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


def _patterns_in(template: dict) -> list[tuple[str, Any]]:
    """Every rule pattern of the template, unresolved: (where, pattern)."""
    found = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Events::Rule" and "EventPattern" in properties:
            found.append((f"Resources.{logical_id}", properties["EventPattern"]))
        for event_id, event in (properties.get("Events") or {}).items() if isinstance(properties.get("Events"), dict) else []:
            if event.get("Type") in ("EventBridgeRule", "CloudWatchEvent"):
                found.append((f"Resources.{logical_id}.Properties.Events.{event_id}", (event.get("Properties") or {}).get("Pattern")))
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

    for _, pattern in _patterns_in(template):
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


def _function_binary(resource: dict) -> str | None:
    if resource.get("Type") != "AWS::Serverless::Function":
        return None
    binary = ((resource.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
    return str(binary) if binary else None


def _target_resource(r: Resolver, arn: Any, where: str) -> str:
    """The logical id behind a target's Arn (!GetAtt X.Arn, !Ref X, !Sub ${X.Arn})."""
    if isinstance(arn, dict) and len(arn) == 1:
        (key, arg), = arn.items()
        if key == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            return str(parts[0])
        if key == "Ref":
            return str(arg)
        if key == "Fn::If":
            return _target_resource(r, arg[1] if r.condition(arg[0]) else arg[2], where)
    raise TemplateError(f"{where}: target Arn {json.dumps(arn, default=str)} is not !GetAtt/!Ref of a resource")


def load(
    path: str,
    parameters: dict[str, str],
    resources: dict[str, str] | None = None,
    template: dict | None = None,
) -> list[Rule]:
    template = template if template is not None else decode(path)
    r = Resolver(template, parameters, resources)
    declared = template.get("Resources") or {}
    rules: list[Rule] = []

    def active(resource: dict) -> bool:
        condition = resource.get("Condition")
        return condition is None or r.condition(str(condition))

    for logical_id, resource in declared.items():
        if not active(resource):
            continue
        kind = resource.get("Type")
        properties = resource.get("Properties") or {}
        if kind == "AWS::Serverless::Function":
            binary = _function_binary(resource)
            for event_id, event in (properties.get("Events") or {}).items():
                if event.get("Type") not in ("EventBridgeRule", "CloudWatchEvent"):
                    continue
                where = f"Resources.{logical_id}.Properties.Events.{event_id}"
                props = event.get("Properties") or {}
                for unsupported in ("Input", "InputPath"):
                    if unsupported in props:
                        raise TemplateError(f"{where}: {unsupported} is not modelled by the demo")
                pattern = r.value(props.get("Pattern"))
                check_pattern(pattern, where)
                enabled = r.value(props.get("Enabled", True))
                state = r.value(props.get("State", "ENABLED" if enabled in (True, "true") else "DISABLED"))
                target_id = r.value((props.get("Target") or {}).get("Id", f"{logical_id}{event_id}LambdaTarget"))
                rules.append(
                    Rule(
                        name=str(r.value(props.get("RuleName", f"{logical_id}{event_id}"))),
                        bus=str(r.value(props.get("EventBusName", "default"))),
                        pattern=pattern,
                        where=where,
                        state=str(state),
                        targets=[
                            Target(
                                id=str(target_id),
                                resource=logical_id,
                                function=binary,
                                kind=kind,
                                input_transformer=r.value(props["InputTransformer"]) if "InputTransformer" in props else None,
                            )
                        ],
                    )
                )
        elif kind == "AWS::Events::Rule":
            where = f"Resources.{logical_id}"
            if "EventPattern" not in properties:
                continue  # a schedule
            pattern = r.value(properties["EventPattern"])
            if isinstance(pattern, str):
                pattern = json.loads(pattern)
            check_pattern(pattern, where)
            targets = []
            for i, target in enumerate(properties.get("Targets") or []):
                twhere = f"{where}.Properties.Targets[{i}]"
                for unsupported in ("Input", "InputPath"):
                    if unsupported in target:
                        raise TemplateError(f"{twhere}: {unsupported} is not modelled by the demo")
                target_id = _target_resource(r, target.get("Arn"), twhere)
                target_resource = declared.get(target_id)
                if target_resource is None:
                    raise TemplateError(f"{twhere}: no resource {target_id}")
                targets.append(
                    Target(
                        id=str(r.value(target.get("Id"))),
                        resource=target_id,
                        function=_function_binary(target_resource),
                        kind=str(target_resource.get("Type")),
                        input_transformer=r.value(target["InputTransformer"]) if "InputTransformer" in target else None,
                    )
                )
            rules.append(
                Rule(
                    name=str(r.value(properties.get("Name", logical_id))),
                    bus=str(r.value(properties.get("EventBusName", "default"))),
                    pattern=pattern,
                    where=where,
                    state=str(r.value(properties.get("State", "ENABLED"))),
                    targets=targets,
                )
            )
    return rules
