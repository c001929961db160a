# Two commands set up a fresh machine: `make run` (the platform on localhost)
# and `make test` (lint, types, unit + moto integration + end-to-end tests, the template's security scan).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT
STAGE ?= prod
TENANT ?= acme
SCOPES ?=
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: venv run aws token test lint typecheck unit chaos iam package scan bench clean sdk-models lock

# From the locks (requirements*.txt, hash-checked; `make lock` writes them), so that CI on a fresh
# machine installs exactly what passed here. Two makes on a fresh clone install once (the second
# waits); messages go to stderr.
$(VENV)/.installed: requirements-dev.txt requirements.txt sdk/python/pyproject.toml
	@$(PYTHON) -m infra.local.bootstrap $(VENV) requirements-dev.txt requirements.txt --editable sdk/python

venv: $(VENV)/.installed

# checkov pins a boto3 of its own: it has its own virtualenv, from its own lock.
SCAN_VENV := .venv-scan
$(SCAN_VENV)/.installed: requirements-scan.txt
	@$(PYTHON) -m infra.local.bootstrap $(SCAN_VENV) requirements-scan.txt

# Regenerates the three locks from requirements*.in for Linux x86_64, CPython 3.11, from PyPI alone
# (not this machine's pip indexes), keeping every pin the .in files still allow; LOCK_ARGS=--upgrade
# (or --upgrade-package NAME) moves them. docs/deploy.md "Locked dependencies".
LOCK_ARGS ?=
UV_COMPILE = $(BIN)/uv pip compile --quiet --no-config --generate-hashes --python-version 3.11 \
	--index-url https://pypi.org/simple --custom-compile-command "make lock" $(LOCK_ARGS)
lock: venv
	$(UV_COMPILE) --python-platform x86_64-manylinux_2_17 requirements.in -o requirements.txt
	$(UV_COMPILE) --python-platform x86_64-unknown-linux-gnu requirements-dev.in -o requirements-dev.txt
	$(UV_COMPILE) --python-platform x86_64-unknown-linux-gnu requirements-scan.in -o requirements-scan.txt

run: venv
	$(BIN)/python -m infra.local.runtime

# The embedded AWS alone, for `chalice local --stage local --port $PORT` in another terminal (README).
aws: venv
	$(BIN)/python -m infra.local.embedded

token: venv
	@$(BIN)/python -m infra.local.token --tenant "$(TENANT)" --scopes "$(SCOPES)"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/python -m pytest -n 2 --dist loadfile

test: lint typecheck unit iam scan

# The full chaos run (30% AWS faults on every service, 300 deliveries, 50 runs, 5 rotations); `make test`
# runs its seeded fifth. The output goes in docs/reliability.md "The chaos test".
chaos: venv
	CHAOS=full $(BIN)/python -m pytest -p no:cacheprovider -q -n 0 tests/e2e/test_chaos.py -s

# The IAM policy proven against every AWS call of the end-to-end flows (docs/deploy.md, "What the IAM
# check proves"): the dev stage, which the flows run, packaged as `package` does, into build/iam.
iam: venv
	rm -rf build/iam
	$(BIN)/python -m infra.package.build --stage dev --merge-template infra/template.json build/iam
	$(BIN)/python -m infra.iam.check build/iam/sam.json

# build/sam.json (one JSON SAM template: Chalice's functions and API merged with
# infra/template.json) and build/deployment.zip: the locked wheels for Lambda (infra/package/build.py),
# trimmed, with bytecode, at most 8 MB, the same bytes from the same commit (infra/package/finish.py);
# docs/deploy.md takes it from there.
package: venv
	rm -rf build
	$(BIN)/python -m infra.package.build --stage $(STAGE) --merge-template infra/template.json build
	$(BIN)/cfn-lint build/sam.json
	$(BIN)/python -m infra.package.finish build/deployment.zip
	@ls -l build/sam.json build/deployment.zip

# The security scan of what CloudFormation creates: build/template.json, the SAM transform of the packaged
# template (infra/package/translate.py), through checkov; skipped checks and why are in infra/checkov.yaml.
scan: package $(SCAN_VENV)/.installed
	$(BIN)/python -m infra.package.translate build/sam.json build/template.json
	$(SCAN_VENV)/bin/checkov --config-file infra/checkov.yaml --file build/template.json

# The SDK's typed models follow /openapi.json; tests/sdk fails until this is re-run after an API change.
sdk-models: venv
	mkdir -p build
	$(BIN)/python -c "import app; from chalicelib.api.openapi import document_json; print(document_json())" > build/openapi.json
	$(BIN)/python sdk/python/tools/generate.py build/openapi.json

bench: venv
	$(BIN)/python -m bench.run_all

clean:
	rm -rf build $(VENV) $(VENV).lock $(SCAN_VENV) $(SCAN_VENV).lock .local
