# The two commands a newcomer needs: `make demo` and `make test`.
# Everything they need beyond the Rust toolchain and python3 (moto, cfn-lint,
# cargo-lambda, zig, pytest) is pinned in tests/emulator/requirements.txt and
# installed into the git-ignored .venv on first use; checkov, pinned in
# tests/emulator/requirements-checkov.txt, gets a venv of its own (.venv-checkov),
# and so do the workflow and Dockerfile linters (.venv-lint, requirements-lint.txt).
# `make build` and `make deploy` are for deploying to AWS (README).

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python

CHECKOV_VENV         := .venv-checkov
CHECKOV_REQUIREMENTS := tests/emulator/requirements-checkov.txt
CHECKOV_STAMP        := $(CHECKOV_VENV)/.requirements.stamp

LINT_VENV         := .venv-lint
LINT_REQUIREMENTS := tests/emulator/requirements-lint.txt
LINT_STAMP        := $(LINT_VENV)/.requirements.stamp
WORKFLOWS         := $(wildcard .github/workflows/*.yml .github/workflows/*.yaml)
DOCKERFILES       := $(wildcard examples/*/Dockerfile)

# Every function crate: `make build` picks up a new functions/<name>/ by itself.
FUNCTIONS := $(notdir $(patsubst %/Cargo.toml,%,$(wildcard functions/*/Cargo.toml)))

# cargo lambda (and SAM's cargo-lambda builder) from the venv; cargo lambda runs
# zig as `python3 -m ziglang`, which must be the venv's python3 to find the pinned
# ziglang. Only for the recipes that build, not for the tests.
WITH_VENV_PATH := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

.PHONY: test demo venv fmt-check clippy rust-tests emulator-tests example-tests lint cfn-lint checkov checkov-venv workflow-lint dockerfile-lint lint-venv fmt build deploy destroy bench

## test: everything CI runs: formatting, clippy, lint (template, workflow, Dockerfile), emulator tests, the example model's tests, unit + integration tests
test: fmt-check clippy lint emulator-tests example-tests rust-tests

## demo: the example model trained and served for real through the chain push -> train -> evaluate -> register -> approve -> deploy -> predict (twice), a worse model stopped by the gate, then new data -> retrain; each function a real Lambda binary, routed by template.yaml's EventBridge rules, against the local emulator
demo: venv
	bash scripts/demo.sh

venv:
	bash tests/emulator/ensure-venv.sh

fmt-check:
	cargo fmt --all -- --check

fmt:
	cargo fmt --all

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

# Integration tests start their own emulator (installing the venv if needed).
rust-tests: venv
	cargo test --workspace

emulator-tests: venv
	$(PY) -m pytest tests/emulator -q

## example-tests: the example model (examples/diabetes-regression): train and serve against SageMaker's container contracts, as plain processes (no Docker)
example-tests: venv
	$(PY) -m pytest examples/diabetes-regression/tests -q

## lint: template.yaml through cfn-lint (no error, no warning) and checkov (no failed check; skips are in the template, each with its reason); the workflows and the example Dockerfiles (workflow-lint, dockerfile-lint)
lint: cfn-lint checkov workflow-lint dockerfile-lint

cfn-lint: venv
	$(VENV)/bin/cfn-lint template.yaml

# --skip-download: no Prisma Cloud look-ups (guidelines, severities); the
# checks themselves ship in the package. Exits non-zero on any failed check.
checkov: checkov-venv
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation \
		--quiet --compact --skip-download

checkov-venv: $(CHECKOV_STAMP)

# Re-installed whenever the requirements file is newer than the stamp.
$(CHECKOV_STAMP): $(CHECKOV_REQUIREMENTS)
	@echo "checkov-venv: installing $< into $(CHECKOV_VENV) ..." >&2
	@rm -f $@
	@test -x $(CHECKOV_VENV)/bin/python || $${PYTHON:-python3} -m venv $(CHECKOV_VENV) >&2
	@printf '*\n' >$(CHECKOV_VENV)/.gitignore
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		--requirement $< >&2
	@touch $@

## workflow-lint: .github/workflows/*.yml against GitHub's workflow schema (vendored in check-jsonschema) and its every-job-has-a-timeout schema, each run: script through shellcheck (no ${{ }} in scripts), and zizmor's security audit; all offline
workflow-lint: lint-venv
	@test -n "$(WORKFLOWS)" || { echo "workflow-lint: no workflow in .github/workflows" >&2; exit 1; }
	$(LINT_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(LINT_VENV)/bin/check-jsonschema --builtin-schema custom.github-workflows-require-timeout $(WORKFLOWS)
	$(LINT_VENV)/bin/python scripts/shellcheck_workflows.py --shellcheck $(LINT_VENV)/bin/shellcheck $(WORKFLOWS)
	$(LINT_VENV)/bin/zizmor --offline --no-progress $(WORKFLOWS)

## dockerfile-lint: examples/*/Dockerfile through hadolint; any finding fails, style level included (hadolint alone passes style findings)
dockerfile-lint: lint-venv
	@test -n "$(DOCKERFILES)" || { echo "dockerfile-lint: no examples/*/Dockerfile" >&2; exit 1; }
	$(LINT_VENV)/bin/hadolint --failure-threshold style --no-color $(DOCKERFILES)

lint-venv: $(LINT_STAMP)

# As $(CHECKOV_STAMP): re-installed whenever the requirements file is newer than the stamp.
$(LINT_STAMP): $(LINT_REQUIREMENTS)
	@echo "lint-venv: installing $< into $(LINT_VENV) ..." >&2
	@rm -f $@
	@test -x $(LINT_VENV)/bin/python || $${PYTHON:-python3} -m venv $(LINT_VENV) >&2
	@printf '*\n' >$(LINT_VENV)/.gitignore
	@$(LINT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		--requirement $< >&2
	@touch $@

## bench: every function's release binary (host architecture) against the budgets: cold start vs a bare lambda_runtime floor, peak RSS, zip size, AWS calls per invocation; serve_predictions' overhead over a direct InvokeEndpoint to the same local endpoint (p50, p99 of 500 each); and the example model's /invocations latency (p50, p99 of 200 requests); a table, and JSON in target/bench/results.json (README, Performance). Not part of `make test`. BENCH_ARGS="--runs 9" for more runs
# The floor is built on its own: built with the functions, cargo would unify
# the SDK's tokio/hyper features into it and it would be no floor. So is the
# direct InvokeEndpoint caller (the floor package's `direct` feature), which
# has the SDK.
bench: venv
	cargo build --release $(addprefix --package ,$(FUNCTIONS))
	cargo build --release --package floor
	cargo build --release --package floor --features direct --bin invoke_direct
	$(PY) bench/bench.py $(BENCH_ARGS)

## build: release arm64 Lambda binaries of every function, target/lambda/<function>/bootstrap (cargo lambda, zig from the venv)
build: venv
	$(WITH_VENV_PATH) cargo lambda build --release --arm64 $(addprefix --package ,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do ls -l target/lambda/$$f/bootstrap; done

## deploy: sam build, then sam deploy (--guided when there is no samconfig.toml yet; it writes one). Needs the AWS SAM CLI and AWS credentials
deploy: venv
	@command -v sam >/dev/null || { echo "make deploy: the AWS SAM CLI (sam) is not installed; see README, Deploying to AWS" >&2; exit 1; }
	$(WITH_VENV_PATH) sam build
	@if [[ -f samconfig.toml ]]; then \
		echo "sam deploy (settings from samconfig.toml)"; $(WITH_VENV_PATH) sam deploy; \
	else \
		echo "sam deploy --guided (no samconfig.toml yet: answers are saved to it)"; $(WITH_VENV_PATH) sam deploy --guided; \
	fi

## destroy: after `sam delete`, removes what one pipeline's functions created at runtime and the stack does not own (endpoints, their autoscaling, endpoint configurations, models, model package versions and group, retraining schedules; in-progress training jobs stopped with ARGS=--stop-training-jobs): lists them, asks for the pipeline's name, deletes. Only resources with the pipeline's name prefix and its mlops:pipeline tag. make destroy PIPELINE=<PipelineName> [ARGS="--region eu-west-1 --dry-run"]; scripts/destroy.py --help lists the options. Needs AWS credentials
destroy: venv
	@test -n "$(PIPELINE)" || { echo "make destroy: set PIPELINE=<the stack's PipelineName>, e.g. make destroy PIPELINE=mlops" >&2; exit 1; }
	$(PY) scripts/destroy.py --pipeline "$(PIPELINE)" $(ARGS)
