# The two commands: `make run` (set up + full refresh) and `make test` (set up + all tests).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lab lint format benchmark clean-cache priors skill

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "chipcast needs Python 3.11, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev,lab]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/chipcast validate
	$(BIN)/chipcast refresh --no-progress

test: $(STAMP)
	$(BIN)/python -m pytest

# jupyter refuses to start as root (a container) without --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $$([ "$$(id -u)" -eq 0 ] && echo --allow-root)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

benchmark: $(STAMP)
	$(BIN)/python benchmarks/models.py
	$(BIN)/python benchmarks/refresh.py

# Offline, not in CI: learn the growth family's priors on the skill benchmark's development half
# (writes src/chipcast/models/priors/growth.json), and score the forecasters on both halves.
priors: $(STAMP)
	$(BIN)/python benchmarks/learn_priors.py

skill: $(STAMP)
	$(BIN)/python benchmarks/skill.py
