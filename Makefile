# Two commands do all set-up on a fresh machine: `make eval` and `make test`.
PY        := .venv/bin/python
SYSTEM    ?= ground_truth,flite,espeak,piper
BENCHMARK ?= demo
# Empty: the benchmark's default stack (demo -> lite, ztts1_clean / ztts1_itw -> paper).
SCORERS   ?=
RESULTS_DIR ?= results
ARGS      ?=
# SHARDS=n splits every run into n shards run in parallel by a Hydra launcher (default
# submitit_local: local processes, the same code path as submitit_slurm on a cluster).
SHARDS    ?= 1
LAUNCHER  ?= submitit_local
SHARD_TIMEOUT_MIN ?= 10080
ifneq ($(SHARDS),1)
SHARD_ARGS := shard.count=$(SHARDS) 'shard.index=range($(SHARDS))' hydra/launcher=$(LAUNCHER) hydra.launcher.timeout_min=$(SHARD_TIMEOUT_MIN)
endif

.PHONY: setup worker-env scorer-env envs eval doctor report test bench clean-results

.venv/.setup-done: pyproject.toml scripts/setup.sh
	./scripts/setup.sh

# The open-model workers' own environment (qwen3_tts, voxcpm2): see systems/workers/.
.venv-workers/.setup-done: systems/workers/requirements.txt scripts/setup_workers.sh
	./scripts/setup_workers.sh

worker-env: .venv-workers/.setup-done

# The optional UTMOSv2 scorer's own environment (~7 GB: the package pins torch 2.9.1). The tests
# need it; `make eval` does not.
.venv-utmosv2/.setup-done: scripts/setup_utmosv2.sh
	./scripts/setup_utmosv2.sh

scorer-env: .venv-utmosv2/.setup-done

# The environments do not depend on each other, so they are built at once (a fresh clone's three
# took 282 s one after the other, 145 s at once; docs/measured.md). Only here: the other targets
# run one at a time.
setup:
	@$(MAKE) --no-print-directory --silent --jobs=3 .venv/.setup-done .venv-workers/.setup-done

envs:
	@$(MAKE) --no-print-directory --silent --jobs=3 .venv/.setup-done .venv-workers/.setup-done .venv-utmosv2/.setup-done

# Hydra multirun over the systems (BasicLauncher: one after the other; a submitit or Ray
# launcher spreads them), then one report over every stored run of the benchmark.
eval: setup
	$(PY) -m ztts1_eval eval --multirun system=$(SYSTEM) benchmark=$(BENCHMARK) $(if $(SCORERS),scorers=$(SCORERS)) results_dir=$(RESULTS_DIR) $(SHARD_ARGS) $(ARGS)
	$(PY) -m ztts1_eval report --benchmark $(BENCHMARK) --results-dir $(RESULTS_DIR)

# Load every scorer of the stack and each system, run them on probe clips and check the numbers
# (conf/doctor.yaml); run it after downloading weights, before a long run.
doctor: setup
	$(PY) -m ztts1_eval doctor system=$(SYSTEM) benchmark=$(BENCHMARK) $(if $(SCORERS),scorers=$(SCORERS)) $(ARGS)

report: setup
	$(PY) -m ztts1_eval report --benchmark $(BENCHMARK) --results-dir $(RESULTS_DIR)

test: envs
	$(PY) -m pytest -q tests

bench: setup
	$(PY) benchmarks/bench_demo.py
	$(PY) benchmarks/zonos2_decode.py
	$(PY) benchmarks/bench_speaker_sim.py
	$(PY) benchmarks/bench_lite_asr.py
	$(PY) benchmarks/bench_worker.py
	$(PY) benchmarks/bench_shards.py
	$(PY) benchmarks/bench_normalizers.py

clean-results:
	rm -rf $(RESULTS_DIR)/$(BENCHMARK)
