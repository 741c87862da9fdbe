# Two commands do all set-up on a fresh machine: `make eval` and `make test`.
PY        := .venv/bin/python
SYSTEM    ?= ground_truth,flite,espeak,piper
BENCHMARK ?= demo
# Empty: the benchmark's default stack (demo -> lite, ztts1_clean / ztts1_itw -> paper).
SCORERS   ?=
RESULTS_DIR ?= results
ARGS      ?=

.PHONY: setup eval report test bench clean-results

.venv/.setup-done: pyproject.toml scripts/setup.sh
	./scripts/setup.sh

setup: .venv/.setup-done

# Hydra multirun over the systems (BasicLauncher: one after the other; a submitit or Ray
# launcher spreads them), then one report over every stored run of the benchmark.
eval: setup
	$(PY) -m ztts1_eval eval --multirun system=$(SYSTEM) benchmark=$(BENCHMARK) $(if $(SCORERS),scorers=$(SCORERS)) results_dir=$(RESULTS_DIR) $(ARGS)
	$(PY) -m ztts1_eval report --benchmark $(BENCHMARK) --results-dir $(RESULTS_DIR)

report: setup
	$(PY) -m ztts1_eval report --benchmark $(BENCHMARK) --results-dir $(RESULTS_DIR)

test: setup
	$(PY) -m pytest -q tests

bench: setup
	$(PY) benchmarks/bench_demo.py
	$(PY) benchmarks/zonos2_decode.py
	$(PY) benchmarks/bench_speaker_sim.py

clean-results:
	rm -rf $(RESULTS_DIR)/$(BENCHMARK)
