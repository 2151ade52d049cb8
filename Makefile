# Two commands on a fresh machine (Python 3.11+ and the package registries):
#   make demo   installs ethicsgate and runs a signed audit on the shipped example data
#   make test   installs ethicsgate with its dev extras and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
KEYS := .ethicsgate/keys

.PHONY: demo test install install-dev lint schemas clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	@test -f $(KEYS)/demo.key || $(BIN)/ethicsgate keys generate --out $(KEYS) --name demo
	@# exit 1 means the audit found a blocking failure: the report is still written
	$(BIN)/ethicsgate audit audits/compas-example.yaml --key $(KEYS)/demo.key || test $$? -eq 1
	$(BIN)/ethicsgate verify reports/compas-example --key $(KEYS)/demo.pub --evidence
	$(BIN)/ethicsgate audit audits/bakery.yaml --key $(KEYS)/demo.key || test $$? -eq 1
	@echo "open reports/compas-example/report.html"

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# ruff (pydocstyle included), mypy --strict, and the architecture contracts (docs/architecture.md)
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports

schemas: $(VENV)/.installed
	for kind in policy audit report; do \
	  $(BIN)/ethicsgate policy schema --kind $$kind > docs/schemas/$$kind.schema.json; done

clean:
	rm -rf $(VENV) reports/*/ .pytest_cache .hypothesis
