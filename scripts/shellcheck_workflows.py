"""shellcheck on every `run:` script of GitHub Actions workflows (`make workflow-lint`).

    python scripts/shellcheck_workflows.py [--shellcheck PATH] WORKFLOW.yml...

Each step's `run:` is written to a temporary file and checked with the shell the
runner would use (the step's `shell:`, else the job's then the workflow's
`defaults.run.shell`, else bash); findings are printed as
<workflow>:<line>:<column>: ... with the workflow's own line numbers. Steps
with a shell shellcheck does not know (pwsh, python, ...) are skipped.

A `${{ }}` expression inside a `run:` script is an error of its own: the
runner pastes the value into the script before the shell reads it (script
injection); pass values through the step's `env:` instead.

Needs ruamel.yaml (a dependency of check-jsonschema in .venv-lint).
Exit status: 0 clean, 1 findings, 2 usage or unreadable workflow.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from ruamel.yaml import YAML

# GitHub's shell keywords (and custom "bash {0}"-style commands) -> shellcheck dialect.
DIALECTS = {"bash": "bash", "sh": "sh"}


def dialect(shell: str | None) -> str | None:
    if shell is None:
        return "bash"  # ubuntu runners: bash -e {0}
    word = shell.split()[0]
    return DIALECTS.get(os.path.basename(word))


def default_shell(node) -> str | None:
    try:
        return node["defaults"]["run"]["shell"]
    except (KeyError, TypeError):
        return None


def run_steps(path: str):
    """(job id, step label, line and column offset of the script in the file, shell, script)."""
    with open(path, encoding="utf-8") as f:
        workflow = YAML().load(f)
    workflow_shell = default_shell(workflow)
    for job_id, job in (workflow.get("jobs") or {}).items():
        job_shell = default_shell(job) or workflow_shell
        for index, step in enumerate(job.get("steps") or [], start=1):
            if "run" not in step:
                continue
            script = str(step["run"])
            line, column = step.lc.value("run")  # 0-based, of the value
            if _source_line(path, line).rstrip().endswith(("|", "|-", "|+", ">", ">-", ">+")):
                # A block scalar: the script starts on the next line, indented.
                first = line + 2
                text = _source_line(path, line + 1)
                indent = len(text) - len(text.lstrip(" "))
            else:
                first, indent = line + 1, column
            label = step.get("name") or step.get("id") or f"step {index}"
            yield job_id, label, (first, indent), step.get("shell") or job_shell, script


_lines_cache: dict[str, list[str]] = {}


def _source_line(path: str, line: int) -> str:
    if path not in _lines_cache:
        with open(path, encoding="utf-8") as f:
            _lines_cache[path] = f.read().splitlines()
    return _lines_cache[path][line]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shellcheck", default="shellcheck", help="shellcheck binary")
    parser.add_argument("workflows", nargs="+")
    args = parser.parse_args()

    findings = 0
    checked = 0
    for path in args.workflows:
        try:
            steps = list(run_steps(path))
        except (OSError, ValueError) as err:
            print(f"{path}: cannot read the workflow: {err}", file=sys.stderr)
            return 2
        for job_id, label, (first, indent), shell, script in steps:
            where = f"job {job_id}, step {label!r}"
            if "${{" in script:
                findings += 1
                print(f"{path}:{first}: {where}: a ${{{{ }}}} expression in a run: script; "
                      "pass the value through the step's env: instead")
            lang = dialect(shell)
            if lang is None:
                print(f"{path}:{first}: {where}: shell {shell!r} is not checked", file=sys.stderr)
                continue
            with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as tmp:
                tmp.write(script)
            try:
                out = subprocess.run(
                    [args.shellcheck, f"--shell={lang}", "--format=json1", tmp.name],
                    capture_output=True, text=True, check=False,
                )
            finally:
                os.unlink(tmp.name)
            if out.returncode not in (0, 1):
                print(f"{path}:{first}: {where}: shellcheck failed: {out.stderr.strip()}", file=sys.stderr)
                return 2
            checked += 1
            for c in json.loads(out.stdout or '{"comments": []}')["comments"]:
                findings += 1
                print(f"{path}:{first + c['line'] - 1}:{indent + c['column']}: {c['level']}: "
                      f"SC{c['code']}: {c['message']} ({where})")
    print(f"shellcheck: {checked} run: script(s) in {len(args.workflows)} workflow(s), "
          f"{findings} finding(s)", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
