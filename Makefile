# Two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint venv clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing parbot and its dependencies into $(VENV) (log: $(VENV)/install.log)…"
	@$(BIN)/python -m pip install --upgrade pip > $(VENV)/install.log 2>&1 \
	  && $(BIN)/python -m pip install -e '.[dev]' >> $(VENV)/install.log 2>&1 \
	  || (cat $(VENV)/install.log; exit 1)
	@touch $(STAMP)

venv: $(STAMP)

# The web companion listens on 127.0.0.1:8080 during `make run` unless PARBOT_WEB_LISTEN says
# otherwise (in the environment or on the command line: make run PARBOT_WEB_LISTEN=…).
run: export PARBOT_WEB_LISTEN ?= 127.0.0.1:8080
run: $(STAMP)
	$(BIN)/parbot db upgrade
	$(BIN)/parbot seed
	@echo "Trang web: http://$(PARBOT_WEB_LISTEN)  (gõ /web trong chat để nhận liên kết đăng nhập)"
	$(BIN)/parbot run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# Two test processes: most of the suite waits on fake servers, subprocesses and the databases,
# so two workers keep a 2-core machine busy (PYTEST_WORKERS=0 runs in one process).
PYTEST_WORKERS ?= 2
test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

bench: $(STAMP)
	$(BIN)/python bench/import_scale.py
	$(BIN)/python bench/report_scale.py
	$(BIN)/python bench/reminder_sweep.py
	$(BIN)/python bench/broadcast.py
	$(BIN)/python bench/chat_latency.py

clean:
	rm -rf $(VENV) data/*.db
