# JakMentor: `make run` serves the demo, `make test` runs the suite. Only Python 3.11 is needed.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export FLASK_APP := webapp

.PHONY: run test install migrate demo serve scheduler translations lint audit bandit bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/flask db upgrade

demo: migrate
	$(BIN)/flask demo load --if-empty

run: demo
	@echo "JakMentor is serving on http://127.0.0.1:5000, its scheduler beside it (Ctrl+C stops both)"
	@$(BIN)/flask scheduler run & sched=$$!; trap 'kill $$sched 2>/dev/null' EXIT INT TERM; $(BIN)/flask run --host 127.0.0.1 --port 5000

scheduler: migrate
	$(BIN)/flask scheduler run

test: $(STAMP)
	$(BIN)/python -m pytest -q

translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o webapp/translations/messages.pot .
	$(BIN)/pybabel update -i webapp/translations/messages.pot -d webapp/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d webapp/translations

lint: $(STAMP)
	$(BIN)/ruff check matching models webapp scripts tests

# Known vulnerabilities in the installed packages (pip-audit); see scripts/audit_dependencies.py for when it skips.
audit: $(STAMP)
	$(BIN)/python scripts/audit_dependencies.py

# Static security scan, every severity and confidence; a false positive gets `# nosec BXXX # reason` on its line.
bandit: $(STAMP)
	$(BIN)/bandit -c pyproject.toml -r matching models webapp scripts --severity-level low --confidence-level low -q

clean:
	rm -rf $(VENV) instance .pytest_cache
