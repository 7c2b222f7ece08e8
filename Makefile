# The two commands a newcomer needs: `make demo` and `make test`.
# Everything they need beyond the Rust toolchain and python3 (moto, cfn-lint,
# cargo-lambda, pytest) is pinned in tests/emulator/requirements.txt and
# installed into the git-ignored .venv on first use.

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python

.PHONY: test demo venv fmt-check clippy rust-tests emulator-tests lint fmt

## test: everything CI runs: formatting, clippy, unit + integration tests, emulator tests, template lint
test: fmt-check clippy lint emulator-tests rust-tests

## demo: the chain push -> train -> evaluate -> register -> approve -> deploy, each function a real Lambda binary, against the local emulator
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

lint: venv
	$(VENV)/bin/cfn-lint template.yaml
