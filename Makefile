# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATES := $(notdir $(wildcard raw/????-??-??))

.PHONY: run test test-dispatch install bench-quality bench-storage bench-spark bench-throughput bench-startup clean-output train train-html train-text train-quality bench-html train-class bench-markdown

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	# pip 23.2.1 cannot resolve trafilatura's lxml[html-clean] extra: upgrade first.
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,s3,spark]'
	touch $@

install: $(VENV)/.installed

run: install
	@for d in $(DATES); do \
	  echo "== CleanPartition --date $$d"; \
	  $(BIN)/luigi --module tasks CleanPartition --date $$d --local-scheduler || exit 1; \
	done
	@echo "clean output under clean/: ls clean/*/"

test: install
	$(BIN)/python -m pytest -q

# CORPUS=DIR: another gold corpus (default: ../shared/corpus/dev beside the repo)
bench-quality: install
	$(BIN)/python benchmarks/quality.py $(if $(CORPUS),--corpus $(CORPUS))
	$(BIN)/python benchmarks/site_profiles.py $(if $(CORPUS),--corpus $(CORPUS))

# The HTML block model (pipeline/models/html_blocks.*) from ../shared/corpus: trafilatura's outputs
# and the block features are cached in .cache/ (git-ignored); ~15 min on 2 cores from scratch.
train-html: install
	nice $(BIN)/python training/html_cache.py
	nice $(BIN)/python training/train_html_model.py

# The text line labeller (pipeline/models/line_model.json + line_stage{1,2}.txt) from ../shared/corpus:
# all 1,656 pages x {dump, article, extracted text}, site-grouped 5-fold CV; the pipeline's inputs
# to the labeller and trafilatura's extractions are cached in .cache/ (git-ignored).
train-text: install
	nice $(BIN)/python training/html_cache.py
	nice $(BIN)/python training/train_line_model.py

# The document quality score (pipeline/models/quality.json) on train-text's out-of-fold predictions
# and, for HTML input, on the HTML path's with train-html's fold models (training/html_oof.py).
train-quality: install
	@test -f .cache/train-text/oof.pkl || { echo "train-quality: .cache/train-text/oof.pkl is missing: run make train-text first"; exit 2; }
	@test -f .cache/html_folds/folds.json || { echo "train-quality: .cache/html_folds/folds.json is missing: run make train-html first"; exit 2; }
	nice $(BIN)/python training/html_oof.py
	nice $(BIN)/python training/train_quality.py


# The text line class model (pipeline/models/line_class.json: headings and list items for Markdown)
# from ../shared/corpus/train/wcxb's gold.md; the cleaned kept lines are cached in .cache/line_class/,
# the fold models in .cache/line_class_folds/ (for bench-markdown). Run after the line model changes.
train-class: install
	nice $(BIN)/python training/train_line_class.py

train: train-html train-text train-quality train-class

# Heading and list item recovery vs WCXB gold.md, from HTML and (fold models) from dumps.
bench-markdown: install
	$(BIN)/python benchmarks/markdown.py

# decruft vs trafilatura.extract on HTML, cross-validated by site (fold models from train-html).
bench-html: install
	$(BIN)/python benchmarks/html_quality.py

# CleanPartition through moto's S3 server on loopback vs local disk (README "Beyond one machine").
bench-storage: install
	$(BIN)/python benchmarks/storage.py --per-file 100
	$(BIN)/python benchmarks/storage.py

bench-spark: install
	$(BIN)/python benchmarks/spark.py --docs 10000
	$(BIN)/python benchmarks/spark_memory.py --mb 256

bench-throughput: install
	$(BIN)/python benchmarks/throughput.py

bench-startup: install
	$(BIN)/python benchmarks/startup.py

clean-output:
	rm -rf clean/

# The numeric tests again with numpy's AVX-512 and then also its AVX2 kernels switched off:
# outputs must not change (README "Same output on every machine"). .ci/run calls this.
NARROWED_DISPATCH := "X86_V4 AVX512_ICL AVX512_SPR" "X86_V4 AVX512_ICL AVX512_SPR X86_V3"
test-dispatch: install
	@for groups in $(NARROWED_DISPATCH); do \
	  echo "== NPY_DISABLE_CPU_FEATURES=$$groups"; \
	  NPY_DISABLE_CPU_FEATURES="$$groups" $(BIN)/python -W error::ImportWarning -c 'import numpy' \
	    || { echo "numpy does not accept NPY_DISABLE_CPU_FEATURES=$$groups"; exit 1; }; \
	  NPY_DISABLE_CPU_FEATURES="$$groups" $(BIN)/python -m pytest -q -m numeric -W error::ImportWarning || exit 1; \
	done
