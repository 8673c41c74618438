# Two commands: `make run` sets everything up and runs the assistant; `make test` sets up
# and runs the tests. Both create what is missing and skip what is up to date.

PYTHON ?= python3
APP_VENV := .venv
RASA_VENV := .venv-rasa
export RASA_TELEMETRY_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup system train lint bench clean

run: setup
	$(APP_VENV)/bin/madoguchi run

test: setup system
	$(APP_VENV)/bin/ruff check .
	$(APP_VENV)/bin/madoguchi faq validate
	$(APP_VENV)/bin/madoguchi embeddings
	$(APP_VENV)/bin/pytest -q

setup: $(APP_VENV)/.installed $(RASA_VENV)/.installed

# Debian packages the tests use: Chromium, which the widget's browser tests drive through
# Playwright (never Playwright's own browser download), the CJK fonts that make their
# screenshots readable, and HAProxy, in front of several instances of each service.
system:
	command -v chromium >/dev/null && command -v haproxy >/dev/null && fc-list :lang=ja | grep -q . || \
		(apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk haproxy)

train: setup
	$(APP_VENV)/bin/madoguchi train

lint: setup
	$(APP_VENV)/bin/ruff check .

bench: setup
	$(APP_VENV)/bin/madoguchi embeddings
	$(APP_VENV)/bin/python bench/engine_speed.py
	$(APP_VENV)/bin/python bench/one_question_corpus.py
	$(APP_VENV)/bin/python bench/chat_latency.py
	$(APP_VENV)/bin/python bench/line_latency.py
	$(APP_VENV)/bin/python bench/load.py
	$(APP_VENV)/bin/python bench/load.py --minutes 2 --kill
	$(APP_VENV)/bin/python bench/load.py --minutes 2 --db-outage
	$(APP_VENV)/bin/python bench/hostile_input.py
	$(APP_VENV)/bin/python bench/chat_eval.py
	$(APP_VENV)/bin/python bench/conversation_eval.py --set tests/eval/conversations/test.jsonl tests/eval/conversations/test2.jsonl

# The app environment: gateway, action server (rasa-sdk), FAQ engine, tools and tests.
# torch comes from the CPU wheel pinned in pyproject.toml.
$(APP_VENV)/.installed: pyproject.toml
	test -x $(APP_VENV)/bin/python || $(PYTHON) -m venv $(APP_VENV)
	$(APP_VENV)/bin/pip install -q -e '.[dev]'
	touch $@

# The Rasa environment. Rasa 3.6 declares Python <3.11 but runs on 3.11: it is installed
# without dependency resolution from the pinned list, and the project itself is added
# without its own (app) dependencies so that `bot.nlu` is importable.
$(RASA_VENV)/.installed: requirements/rasa.txt pyproject.toml
	test -x $(RASA_VENV)/bin/python || $(PYTHON) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q --no-deps --ignore-requires-python -r requirements/rasa.txt
	$(RASA_VENV)/bin/pip install -q --no-deps -e .
	$(RASA_VENV)/bin/rasa telemetry disable >/dev/null 2>&1 || true
	touch $@

clean:
	rm -rf $(APP_VENV) $(RASA_VENV) models var .pytest_cache .ruff_cache
