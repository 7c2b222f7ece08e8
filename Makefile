# The two commands a newcomer needs: `make demo` and `make test`.
# Everything they need beyond the Rust toolchain and python3 (moto, cfn-lint,
# cargo-lambda, zig, pytest) is pinned in tests/emulator/requirements.txt and
# installed into the git-ignored .venv on first use; checkov, pinned in
# tests/emulator/requirements-checkov.txt, gets a venv of its own (.venv-checkov),
# and so do the workflow and Dockerfile linters (.venv-lint, requirements-lint.txt).
# `make build` and `make deploy` are for deploying to AWS (README, First deployment). `make help`
# (or plain `make`) lists the targets: every target a user calls has a
# `## <target>: <text>` comment above it, and help prints its first sentence.

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

# Cargo's target directory, where cargo (and cargo lambda) put what they build:
# $CARGO_TARGET_DIR when it is set (in the environment or on the command line,
# relative to this directory as cargo takes it), else target/.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

# `make` alone prints the list of targets; it builds and tests nothing.
.DEFAULT_GOAL := help

.PHONY: help test demo venv fmt-check clippy rust-tests emulator-tests example-tests lint cfn-lint checkov checkov-venv workflow-lint dockerfile-lint lint-venv fmt build deploy invoke destroy bench

## help: this list, also what plain `make` prints: each target and the first sentence of its `##` comment in the Makefile. The rest of a comment has the details
# A comment's first sentence ends at its first ". " (so none before it: no
# "e.g. " in a summary); wrapped to HELP_WIDTH columns.
HELP_WIDTH ?= 80
help:
	@echo 'Usage: make <target> [VARIABLE=value ...]'
	@echo
	@awk -v width=$(HELP_WIDTH) ' \
		/^## [A-Za-z0-9_.-]+: / { \
			name = substr($$2, 1, length($$2) - 1); \
			text = substr($$0, length(name) + 6); \
			if (match(text, /\. /)) text = substr(text, 1, RSTART - 1); \
			n = split(text, words, " "); line = ""; first = 1; \
			for (i = 1; i <= n; i++) { \
				if (line != "" && 19 + length(line) + 1 + length(words[i]) > width) { \
					printf "  %-17s%s\n", (first ? name : ""), line; line = ""; first = 0; \
				} \
				line = (line == "" ? words[i] : line " " words[i]); \
			} \
			printf "  %-17s%s\n", (first ? name : ""), line; \
		}' $(firstword $(MAKEFILE_LIST))

## test: everything CI runs: rustfmt, clippy, lint, the emulator's and the example model's tests, unit and integration tests. Lint: the template, the workflows, the example Dockerfile; CI: .github/workflows/ci.yml
test: venv fmt-check clippy lint emulator-tests example-tests rust-tests

## demo: the whole chain locally against the emulator, with the example model trained and served for real. push -> train -> evaluate -> register -> approve -> deploy -> predict (twice), a worse model stopped by the gate, then new data -> retrain. Each function a real Lambda binary, routed by template.yaml's EventBridge rules, against the local emulator
demo: venv
	bash scripts/demo.sh

## venv: the project's .venv (moto, pytest, cfn-lint, cargo-lambda, zig, ...), pinned in tests/emulator/requirements.txt. The targets that need it make it themselves
venv:
	bash tests/emulator/ensure-venv.sh

## fmt-check: rustfmt's check of the workspace; changes nothing (`make fmt` does)
fmt-check:
	cargo fmt --all -- --check

## fmt: rustfmt over the workspace: rewrites the files
fmt:
	cargo fmt --all

## clippy: clippy over the workspace, every target (tests included), any warning an error
clippy:
	cargo clippy --workspace --all-targets -- -D warnings

## rust-tests: the workspace's unit and integration tests (cargo test); the integration tests start their own emulator
rust-tests: venv
	cargo test --workspace

## emulator-tests: the local AWS emulator's own tests (tests/emulator, pytest)
emulator-tests: venv
	$(PY) -m pytest tests/emulator -q

## example-tests: the example model (examples/diabetes-regression): train and serve against SageMaker's container contracts, as plain processes (no Docker)
example-tests: venv
	$(PY) -m pytest examples/diabetes-regression/tests -q

## lint: every linter: cfn-lint, checkov, workflow-lint and dockerfile-lint. template.yaml through cfn-lint (no error, no warning) and checkov (no failed check; skips are in the template, each with its reason); the workflows and the example Dockerfiles
lint: cfn-lint checkov workflow-lint dockerfile-lint

## cfn-lint: template.yaml through cfn-lint: no error, no warning
cfn-lint: venv
	$(VENV)/bin/cfn-lint template.yaml

## checkov: template.yaml through checkov (its own .venv-checkov): no failed check; skips are in the template, each with its reason
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

## workflow-lint: the GitHub Actions workflows (.github/workflows) through check-jsonschema, shellcheck and zizmor, offline. Against GitHub's workflow schema (vendored in check-jsonschema) and its every-job-has-a-timeout schema, each run: script through shellcheck (no ${{ }} in scripts), and zizmor's security audit
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

## bench: the performance budgets, measured on every function's release binary (host architecture); not part of `make test`. Cold start vs a bare lambda_runtime floor, peak RSS, zip size, AWS calls per invocation; serve_predictions' overhead over a direct InvokeEndpoint to the same local endpoint (p50, p99 of 500 each); and the example model's /invocations latency (p50, p99 of 200 requests); a table, and JSON in target/bench/results.json (docs/performance.md). BENCH_ARGS="--runs 9" for more runs
# The floor is built on its own: built with the functions, cargo would unify
# the SDK's tokio/hyper features into it and it would be no floor. So is the
# direct InvokeEndpoint caller (the floor package's `direct` feature), which
# has the SDK.
bench: venv
	cargo build --release $(addprefix --package ,$(FUNCTIONS))
	cargo build --release --package floor
	cargo build --release --package floor --features direct --bin invoke_direct
	$(PY) bench/bench.py $(BENCH_ARGS)

## build: release arm64 Lambda binaries of every function, for deploying to AWS: <target dir>/lambda/<function>/bootstrap. <target dir>: $CARGO_TARGET_DIR when set, else target/. Built with cargo lambda and zig from the venv
build: venv
	$(WITH_VENV_PATH) cargo lambda build --release --arm64 --lambda-dir "$(TARGET_DIR)/lambda" \
		$(addprefix --package ,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do ls -l "$(TARGET_DIR)/lambda/$$f/bootstrap"; done

## deploy: to AWS, from samconfig.toml, with no questions: sam build, then sam deploy. Without samconfig.toml it says how to make one from samconfig.example.toml (README, First deployment). CONFIG_ENV=<name> deploys that environment of it (one per model), SAMCONFIG=<file> reads another file, ARGS= more sam deploy options. Needs the AWS SAM CLI and AWS credentials
# SAM CLI's Rust (cargo-lambda) builder is a beta feature in the releases that
# still mark it so: the opt-in is set here, so no build stops at its prompt.
SAMCONFIG  ?= samconfig.toml
CONFIG_ENV ?= default
SAM_ENV    := $(WITH_VENV_PATH) SAM_CLI_BETA_RUST_CARGO_LAMBDA=1
SAM_CONFIG := --config-file "$(abspath $(SAMCONFIG))" --config-env "$(CONFIG_ENV)"
deploy: venv
	@command -v sam >/dev/null || { echo "make deploy: the AWS SAM CLI (sam) is not installed: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html" >&2; exit 1; }
	@test -f "$(SAMCONFIG)" || { \
		echo "make deploy: no $(SAMCONFIG). Make one from the example and set your values in it:" >&2; \
		echo "    cp samconfig.example.toml $(SAMCONFIG)" >&2; \
		echo "  (region, EcrRepositoryName, AlertEmail: README, First deployment; every parameter: docs/configuration.md)" >&2; \
		exit 1; }
	$(SAM_ENV) sam build $(SAM_CONFIG)
	$(SAM_ENV) sam deploy $(SAM_CONFIG) --no-confirm-changeset $(ARGS)

## invoke: one function, once, on an event, against the local emulator with the demo's configuration: make invoke FN=<function> EVENT=<file>. FN: a crate under functions/ (trigger_model_training, ...); EVENT: a sample from events/ or a file of your own. It prints the function's answer, or its error and log; no other stage runs first, so evaluate, register and deploy find none of the resources the earlier stages would have made and answer as AWS would. Logs in .demo/invoke/
invoke: venv
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "make invoke: set FN=<function> and EVENT=<file>, e.g. make invoke FN=trigger_model_training EVENT=events/ecr-push.json" >&2; exit 2; }
	bash scripts/demo.sh --invoke "$(FN)" "$(EVENT)"

## destroy: after `sam delete`, removes what one pipeline's functions created at runtime: make destroy PIPELINE=<PipelineName>. Options in ARGS, e.g. ARGS="--region eu-west-1 --dry-run" (scripts/destroy.py --help lists them). What the stack does not own: endpoints, their autoscaling, endpoint configurations, models, model package versions and group, retraining schedules; in-progress training jobs stopped with ARGS=--stop-training-jobs. It lists them, asks for the pipeline's name, deletes; only resources with the pipeline's name prefix and its mlops:pipeline tag. Needs AWS credentials
destroy: venv
	@test -n "$(PIPELINE)" || { echo "make destroy: set PIPELINE=<the stack's PipelineName>, e.g. make destroy PIPELINE=mlops" >&2; exit 1; }
	$(PY) scripts/destroy.py --pipeline "$(PIPELINE)" $(ARGS)
