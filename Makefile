# Two commands set up a fresh machine: `make run` (the platform on localhost)
# and `make test` (lint, types, unit + moto integration + end-to-end tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT
STAGE ?= prod
TENANT ?= acme
SCOPES ?=
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: venv run aws token test lint typecheck unit iam package bench clean sdk-models

# Locked, so that two makes on a fresh clone install once (the second waits); messages go to stderr.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -m infra.local.bootstrap $(VENV) requirements-dev.txt requirements.txt

venv: $(VENV)/.installed

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

test: lint typecheck unit iam

# The IAM policy proven against every AWS call of the end-to-end flows (docs/deploy.md, "What the IAM
# check proves"): the dev stage, which the flows run, packaged as `package` does, into build/iam.
iam: venv
	rm -rf build/iam
	$(BIN)/chalice package --stage dev --pkg-format cloudformation --template-format json \
		--merge-template infra/template.json build/iam
	$(BIN)/python -m infra.iam.check build/iam/sam.json

# build/sam.json (one JSON SAM template: Chalice's functions and API merged with
# infra/template.json) and build/deployment.zip, trimmed, with bytecode, at most 8 MB
# (infra/package/finish.py); docs/deploy.md takes it from there.
package: venv
	rm -rf build
	$(BIN)/chalice package --stage $(STAGE) --pkg-format cloudformation --template-format json \
		--merge-template infra/template.json build
	$(BIN)/cfn-lint build/sam.json
	$(BIN)/python -m infra.package.finish build/deployment.zip
	@ls -l build/sam.json build/deployment.zip

# The SDK's typed models follow /openapi.json; tests/sdk fails until this is re-run after an API change.
sdk-models: venv
	mkdir -p build
	$(BIN)/python -c "import app; from chalicelib.system.openapi import document_json; print(document_json())" > build/openapi.json
	$(BIN)/python sdk/python/tools/generate.py build/openapi.json

bench: venv
	$(BIN)/python -m bench.run_all

clean:
	rm -rf build $(VENV) $(VENV).lock .local
