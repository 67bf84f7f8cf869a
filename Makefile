# Set-up and checks. `make demo` and `make test` work on a fresh machine (Python 3.10+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench model sample clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

# Programs some tests drive for real: LibreOffice (a review sheet re-saved by a real
# spreadsheet), chattr, setpriv and unshare (read-only and permission cases), PostgreSQL (a
# real server per test session, run as the unprivileged postgres user), Chromium (the review
# page's browser tests, driven by Playwright). Installed from
# Debian when missing and running as root; otherwise those tests skip and say why.
SYSDEPS := $(VENV)/.sysdeps
$(SYSDEPS): | $(BIN)/python
	@missing=""; 	command -v soffice >/dev/null || missing="$$missing libreoffice-calc-nogui"; 	command -v chattr >/dev/null || missing="$$missing e2fsprogs"; 	command -v setpriv >/dev/null || missing="$$missing util-linux"; (command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1) || missing="$$missing postgresql"; 	command -v chromium >/dev/null || missing="$$missing chromium"; 	if [ -n "$$missing" ]; then 	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then 	    echo "installing:$$missing"; 	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) 	      || echo "could not install$$missing: the tests that need them will skip"; 	  else 	    echo "not installed:$$missing (not root or no apt-get): the tests that need them will skip"; 	  fi; 	fi; 	touch $@

## demo: install, run the whole pipeline on the sample corpus, say where the outputs are
demo: $(STAMP)
	$(BIN)/dshift --workspace . run corpus/sample
	@$(BIN)/dshift --workspace . status

## test: lint, type-check and run the test suite
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check pipeline tests bench
	$(BIN)/ruff format --check pipeline tests bench

typecheck: $(STAMP)
	$(BIN)/mypy pipeline

pytest: $(STAMP) $(SYSDEPS)
	$(BIN)/pytest -q

## model: rebuild the shipped learned.v1 model and its training data from tests/devset (byte for byte)
model: $(STAMP)
	$(BIN)/python -m pipeline.learning.ship

## bench: ingest, coding, index and review-page speed, coding quality (each prints figures measured in one run)
bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/coding.py
	$(BIN)/python bench/coding_quality.py
	$(BIN)/python bench/index.py
	$(BIN)/python bench/learning.py
	$(BIN)/python bench/serve.py

## sample: rebuild corpus/sample from corpus/sample-src (only what changed)
# Needs LibreOffice, hyphenation dictionaries and fonts, e.g. on Debian:
#   apt-get install libreoffice-writer-nogui hyphen-en-us hyphen-en-gb fonts-dejavu fonts-hosny-amiri
sample: $(STAMP)
	@command -v soffice >/dev/null || { echo "soffice not found: install LibreOffice (see Makefile)"; exit 1; }
	$(BIN)/pip install --quiet -e ".[sample]"
	$(BIN)/python corpus/sample-src/build.py

clean:
	rm -rf outputs/* corpus/corpus.sqlite* .pytest_cache .mypy_cache .ruff_cache
