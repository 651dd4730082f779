# Backpropagation from Scratch: build, serve and test the course.
#   make book   build the site and serve it on http://127.0.0.1:8000 (Ctrl-C stops it)
#   make test   run every check: ruff, pytest, nbval on every chapter, strict build, browser, PDF
# Run `make help` for the other targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Installed-environment stamp: redone only when the pinned requirements or the package change.
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PORT   ?= 8000
SUBMISSIONS ?=
NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb))
SANITIZE  := tests/nbval_sanitize.cfg

# Matplotlib writes its cache here instead of the home directory (builds, tests, notebooks).
export MPLCONFIGDIR := $(CURDIR)/_build/.mplconfig

.PHONY: help venv node book html html-strict pdf test lint unit nbval site-test pdf-test lab \
        notebooks student grade bench clean

help:
	@echo "make book       build the site and serve it on http://127.0.0.1:$(PORT) (Ctrl-C stops it)"
	@echo "make test       ruff, pytest, nbval on every chapter, strict site build, browser test, PDF test"
	@echo "make html       build the site into _build/html without serving it"
	@echo "make pdf        the whole book as one PDF, _build/pdf/book.pdf (builds the site first)"
	@echo "make lab        JupyterLab on chapters/ with live widgets"
	@echo "make notebooks  re-execute every chapter notebook in place (after changing a chapter)"
	@echo "make student    write the student pack (notebooks without solutions, nnlib wheel, README) to build/student"
	@echo "make grade SUBMISSIONS=<folder>   grade returned notebooks into grades.csv"
	@echo "make bench      run the benchmarks"
	@echo "make venv       create/update .venv from requirements.txt (done by every target)"
	@echo "make clean      remove _build/, build/ and the grades files"

# ---------------------------------------------------------------------------- environment

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
	  echo "Creating $(VENV) with $(PYTHON)"; \
	  $(PYTHON) -m venv $(VENV) || { echo "make venv: FAILED to create $(VENV) with '$(PYTHON)' (Debian: apt-get install python3-venv)" >&2; rm -rf $(VENV); exit 1; }; \
	fi
	@echo "Installing pinned requirements into $(VENV)"
	@$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt \
	  || { echo "make venv: FAILED: pip install -r requirements.txt (see pip's message above)" >&2; exit 1; }
	@$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps -e . \
	  || { echo "make venv: FAILED: pip install -e . (nnlib; see pip's message above)" >&2; exit 1; }
	@touch $@

node: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: npm not found; install Node.js 20 (it ships npm)" >&2; exit 1; }
	@echo "Installing the site's front-end assets (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error \
	  || { echo "make: FAILED: npm ci (see npm's message above)" >&2; exit 1; }
	@touch $@

# ---------------------------------------------------------------------------- the book

# MathJax, RequireJS and the widget manager are copied from node_modules into the site
# by _ext/offline_assets.py during the build.
html: $(STAMP) $(NODE_STAMP)
	$(BIN)/jupyter-book build .

book: html
	@echo ""
	@echo "Serving the book at http://127.0.0.1:$(PORT)/  -- press Ctrl-C to stop."
	@$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

# Every warning is an error; --all re-reads every page so old warnings cannot hide.
html-strict: $(STAMP) $(NODE_STAMP)
	$(BIN)/jupyter-book build . --all -W --keep-going

# JupyterLab 4 with ipywidgets 8 (jupyterlab_widgets is in requirements.txt); Ctrl-C stops it.
# Before it starts: the chapters are marked trusted (their stored animations and widgets show
# at once instead of waiting for a re-run), lab/overrides.json turns off JupyterLab's news
# prompt and update check, and kernels encrypt their local connection (CurveZMQ), so no
# "running over TCP without encryption" warning appears.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
KERNEL_OPTS  := --KernelManager.transport_encryption=auto
LAB_ARGS     ?=

lab: $(STAMP)
	@$(BIN)/jupyter trust $(NOTEBOOKS)
	@install -D -m 644 lab/overrides.json $(LAB_SETTINGS)/overrides.json
	$(BIN)/jupyter lab --ServerApp.root_dir=chapters --ServerApp.ip=127.0.0.1 $(KERNEL_OPTS) $(LAB_ARGS) \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

# Re-run every chapter top to bottom and store outputs and widget state in the notebook.
# No per-cell timing metadata: it would change every run (noisy diffs, and the build's
# execution cache, which hashes cell metadata, would re-run the notebook needlessly).
notebooks: $(STAMP)
	@for nb in $(NOTEBOOKS); do \
	  echo "Executing $$nb"; \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace $(KERNEL_OPTS) \
	    --ExecutePreprocessor.kernel_name=python3 \
	    --ExecutePreprocessor.timeout=600 \
	    --ExecutePreprocessor.record_timing=False \
	    --ExecutePreprocessor.store_widget_state=True "$$nb" || exit 1; \
	done

# The print edition: Chromium prints the built site (see _ext/pdf_edition.py).
# Needs a CJK font for the glossary (Debian: fonts-noto-cjk; .ci/run installs it).
pdf: html
	$(BIN)/python _ext/pdf_edition.py

# ---------------------------------------------------------------------------- checks

# pytest exits with 5 when it collected no tests: that is a failure here, not a pass.
define run_pytest
	@$(BIN)/pytest $(1); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: FAILED: pytest collected no tests ($(strip $(1)))" >&2; exit 1; fi; \
	exit $$rc
endef

test: lint unit nbval site-test pdf-test

lint: $(STAMP)
	$(BIN)/ruff check .

unit: $(STAMP)
	$(call run_pytest, tests --ignore=tests/test_site.py --ignore=tests/test_site_reading.py --ignore=tests/test_pdf.py -n 2)

# nbval re-runs every chapter and compares its outputs with the stored ones: here, and at the
# same time under two emulated other machines (numpy's SIMD kernels narrowed, another OpenBLAS
# kernel on one thread), because a learner's CPU rounds the last bits differently. Each run
# logs to _build/nbval-<machine>.log; a failing run's log is printed. See README, "Portability".
NBVAL := $(BIN)/pytest --nbval --nbval-sanitize-with $(SANITIZE) -p no:cacheprovider -q
ifeq ($(shell uname -m),x86_64)
MACHINES := native avx2 sse
else
MACHINES := native
endif
MACHINE_ENV_native :=
MACHINE_ENV_avx2 := NPY_DISABLE_CPU_FEATURES=X86_V4,AVX512_ICL,AVX512_SPR \
                    OPENBLAS_CORETYPE=Sandybridge OPENBLAS_NUM_THREADS=1
MACHINE_ENV_sse  := NPY_DISABLE_CPU_FEATURES=X86_V3,X86_V4,AVX512_ICL,AVX512_SPR \
                    OPENBLAS_CORETYPE=Nehalem OPENBLAS_NUM_THREADS=1

nbval: $(STAMP)
	@mkdir -p _build
	@echo "nbval on $(words $(NOTEBOOKS)) notebooks, side by side on: $(MACHINES)"
	@start=$$(date +%s); pids=(); \
	for m in $(MACHINES); do \
	  case $$m in \
	    native) menv="$(MACHINE_ENV_native)";; avx2) menv="$(MACHINE_ENV_avx2)";; \
	    sse) menv="$(MACHINE_ENV_sse)";; \
	  esac; \
	  env $$menv $(NBVAL) $(NOTEBOOKS) > _build/nbval-$$m.log 2>&1 & pids+=($$!); \
	done; \
	failed=""; i=0; for m in $(MACHINES); do \
	  if ! wait $${pids[$$i]}; then failed="$$failed $$m"; fi; i=$$((i + 1)); \
	  echo "  $$m: $$(tail -n 1 _build/nbval-$$m.log)"; \
	done; \
	echo "nbval took $$(( $$(date +%s) - start )) s"; \
	for m in $$failed; do echo "==== nbval on the '$$m' machine failed:"; cat _build/nbval-$$m.log; done; \
	[ -z "$$failed" ] || { echo "make: FAILED: nbval on:$$failed" >&2; exit 1; }

site-test: html-strict
	$(call run_pytest, tests/test_site.py tests/test_site_reading.py)

# Prints the site that site-test built and checked (no rebuild), then opens the PDF.
pdf-test: site-test
	$(BIN)/python _ext/pdf_edition.py
	$(call run_pytest, tests/test_pdf.py)

# ---------------------------------------------------------------------------- course admin

# Student notebooks, nnlib's wheel (pip wheel), their pinned requirements and a README.
student: $(STAMP)
	$(BIN)/python -m nnlib.pack build/student

grade: $(STAMP)
	@[ -n "$(SUBMISSIONS)" ] || { echo "usage: make grade SUBMISSIONS=<folder of returned notebooks>" >&2; exit 2; }
	$(BIN)/python -m nnlib.grade $(SUBMISSIONS) --out grades.csv

bench: html
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/first_paint.py

clean:
	rm -rf _build build grades.csv grades_*.csv grades_feedback
