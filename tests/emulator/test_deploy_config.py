"""`make deploy` and samconfig.example.toml (issue 17).

`make deploy` deploys from a samconfig.toml without a question: no `--guided`,
no change-set confirmation, and the opt-in to SAM CLI's Rust builder set by
the Makefile. Without the file it says how to make one. SAM CLI is not
installed here (and would need an AWS account): a stand-in `sam` on PATH
records how it was called. samconfig.example.toml is checked against the
template: each environment's parameters exist, are valid, and two
environments (two models) do not collide.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import template_rules  # noqa: E402

EXAMPLE = ROOT / "samconfig.example.toml"
FAKE_SAM = """#!/usr/bin/env bash
printf '%s\\n' "$(python3 -c 'import json, os, shutil, sys; print(json.dumps({
    "argv": sys.argv[1:],
    "beta": os.environ.get("SAM_CLI_BETA_RUST_CARGO_LAMBDA"),
    "cargo_lambda": shutil.which("cargo-lambda"),
}))' "$@")" >> "$SAM_CALLS"
"""


@pytest.fixture(scope="module")
def parameters() -> dict:
    return template_rules.decode(str(ROOT / "template.yaml"))["Parameters"]


def overrides(text: str) -> dict[str, str]:
    """parameter_overrides as SAM CLI reads the string form: Key=Value, space
    separated, a value in double quotes may hold spaces."""
    return dict(item.split("=", 1) for item in shlex.split(text))


def environments() -> dict[str, dict]:
    config = tomllib.loads(EXAMPLE.read_text())
    return {name: env for name, env in config.items() if isinstance(env, dict)}


def test_every_environment_deploys_valid_parameters(parameters):
    envs = environments()
    assert "default" in envs and len(envs) >= 2  # the first model, and a second one
    for name, env in envs.items():
        values = overrides(env["deploy"]["parameters"]["parameter_overrides"])
        unknown = sorted(set(values) - set(parameters))
        assert not unknown, f"[{name}] parameters the template does not have: {unknown}"
        required = [p for p, spec in parameters.items() if "Default" not in spec]
        assert set(required) <= set(values), f"[{name}] lacks required parameters"
        for key, value in values.items():
            spec = parameters[key]
            if "AllowedPattern" in spec:
                assert re.fullmatch(spec["AllowedPattern"], value), f"[{name}] {key}={value!r}"
            if "AllowedValues" in spec:
                assert value in [str(v) for v in spec["AllowedValues"]], f"[{name}] {key}={value!r}"
            if spec.get("Type") == "Number":
                number = float(value)
                assert float(spec.get("MinValue", number)) <= number <= float(spec.get("MaxValue", number))
        assert env["build"]["parameters"]["beta_features"] is True
        assert env["deploy"]["parameters"]["capabilities"] == "CAPABILITY_IAM"


def test_two_models_do_not_collide():
    envs = environments()
    stacks = [env["global"]["parameters"]["stack_name"] for env in envs.values()]
    pipelines = [overrides(env["deploy"]["parameters"]["parameter_overrides"])["PipelineName"] for env in envs.values()]
    repositories = [
        overrides(env["deploy"]["parameters"]["parameter_overrides"])["EcrRepositoryName"] for env in envs.values()
    ]
    for values in (stacks, pipelines, repositories):
        assert len(set(values)) == len(values), values


@pytest.fixture
def fake_sam(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sam = bin_dir / "sam"
    sam.write_text(FAKE_SAM)
    sam.chmod(0o755)
    calls = tmp_path / "calls.jsonl"

    def run(*make_args: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SAM_CALLS": str(calls)}
        env.pop("SAM_CLI_BETA_RUST_CARGO_LAMBDA", None)
        result = subprocess.run(
            ["make", "--no-print-directory", "-C", str(ROOT), "deploy", *make_args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
        made = [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
        return result, made

    return run


def test_deploy_builds_and_deploys_from_samconfig_without_questions(fake_sam, tmp_path):
    config = tmp_path / "samconfig.toml"
    shutil.copy(EXAMPLE, config)
    result, calls = fake_sam(f"SAMCONFIG={config}", "CONFIG_ENV=churn")
    assert result.returncode == 0, result.stderr
    assert [c["argv"][0] for c in calls] == ["build", "deploy"]
    for call in calls:
        argv = call["argv"]
        assert argv[argv.index("--config-file") + 1] == str(config)
        assert argv[argv.index("--config-env") + 1] == "churn"
        assert "--guided" not in argv
        assert call["beta"] == "1"  # no opt-in prompt
        assert call["cargo_lambda"] == str(ROOT / ".venv" / "bin" / "cargo-lambda")
    assert "--no-confirm-changeset" in calls[1]["argv"]


def test_deploy_without_samconfig_says_how_to_make_one(fake_sam, tmp_path):
    result, calls = fake_sam(f"SAMCONFIG={tmp_path / 'samconfig.toml'}")
    assert result.returncode != 0
    assert calls == []
    assert "cp samconfig.example.toml" in result.stderr
