"""Command line: ``ztts1-eval eval [hydra overrides]``, ``ztts1-eval report``, ``ztts1-eval finalize``,
``ztts1-eval data list|build|verify`` (benchmark manifests from their public sources),
``ztts1-eval compare A B``, ``ztts1-eval gate BASELINE CANDIDATE --config gates.yaml``,
``ztts1-eval noise-floor`` (stored runs only, except noise-floor --runs K, which makes them),
``ztts1-eval doctor`` (the weights and machine give sane numbers), ``ztts1-eval speed`` (a
speech server's latency and throughput) and ``ztts1-eval control`` (a stored speaking-rate sweep).

``eval`` is a Hydra app (``conf/``), so ``--multirun`` sweeps and Hydra launchers (submitit,
Ray) spread systems or shards over machines; ``report`` and ``finalize`` read stored files only.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from ztts1_eval.core import layout, locations
from ztts1_eval.core.errors import ConfigError


def _eval(argv: list[str]) -> None:
    import hydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import DictConfig, OmegaConf

    from systems.base import SystemUnavailable
    from ztts1_eval.pipeline import runner
    from ztts1_eval.core.registry import RegistryError
    from ztts1_eval.scorers.base import ScorerUnavailable

    user_errors = (SystemUnavailable, ScorerUnavailable, ConfigError, RegistryError, FileNotFoundError)

    @hydra.main(version_base="1.3", config_path=str(locations.conf_dir()), config_name="config")
    def main(cfg: DictConfig) -> None:
        config = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
        overrides = list(HydraConfig.get().overrides.task)
        try:
            summary = runner.run(config, overrides)
        except user_errors as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)
        if summary.results is not None:
            print(layout.table_stem(summary.run_dir).with_suffix(".md").read_text(encoding="utf-8"))
        print(f"run {summary.run_id}: {summary.run_dir}")
        if summary.failure:  # finished work is kept; the exit code says the run is not usable
            print(f"error: {summary.failure}", file=sys.stderr)
            sys.exit(3)

    sys.argv = [sys.argv[0], *argv]
    main()


def _report(argv: list[str]) -> None:
    from ztts1_eval.report import build as report

    parser = argparse.ArgumentParser(prog="ztts1-eval report", description="Regenerate tables from stored runs.")
    parser.add_argument("--benchmark", default="demo")
    parser.add_argument("--results-dir", type=Path, default=Path(os.environ.get("ZTTS1_RESULTS_DIR", "results")))
    args = parser.parse_args(argv)
    try:
        markdown, runs = report.report(args.results_dir, args.benchmark)
    except (FileNotFoundError, ConfigError) as exc:
        sys.exit(f"error: {exc}")
    print(markdown)
    print(f"{len(runs)} run(s) -> {args.results_dir / args.benchmark / 'table.md'}")


def _finalize(argv: list[str]) -> None:
    from ztts1_eval.pipeline import merge

    parser = argparse.ArgumentParser(prog="ztts1-eval merge",
                                     description="Merge a (sharded) run directory into items.parquet and results.json; "
                                                 "refuses shards made by different configs or code.")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--force", action="store_true", help="write results even if items are pending")
    args = parser.parse_args(argv)
    try:
        final = merge.merge(args.run_dir, force=args.force)
    except (FileNotFoundError, ConfigError) as exc:
        sys.exit(f"error: {exc}")
    if final is None:
        sys.exit("error: items are still pending (shards running?); pass --force to write partial results")
    print(layout.table_stem(args.run_dir).with_suffix(".md").read_text(encoding="utf-8"))


def _compare(argv: list[str]) -> None:
    from ztts1_eval.report import compare

    parser = argparse.ArgumentParser(prog="ztts1-eval compare", description="Paired comparison of run B against run A.")
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument("--out", type=Path, help="write <out>.md and <out>.csv (default <run_b>/compare_<run A id>)")
    parser.add_argument("--failed-as-worst", action="store_true",
                        help="an item either run failed counts at the metric's worst value (WER 100 %%, sim 0, MOS 1) "
                             "instead of leaving the comparison")
    args = parser.parse_args(argv)
    try:
        frame = compare.compare(args.run_a, args.run_b, failed_as_worst=args.failed_as_worst)
    except (FileNotFoundError, ConfigError) as exc:
        sys.exit(f"error: {exc}")
    stem = args.out or args.run_b / f"compare_{args.run_a.name}"
    print(compare.write_comparison(frame, str(args.run_a), str(args.run_b), stem, args.failed_as_worst))


def _gate(argv: list[str]) -> None:
    from omegaconf import OmegaConf

    from ztts1_eval.report import compare

    parser = argparse.ArgumentParser(prog="ztts1-eval gate",
                                     description="Exit 1 when CANDIDATE regresses beyond a gate against BASELINE.")
    parser.add_argument("baseline", type=Path)
    parser.add_argument("candidate", type=Path)
    parser.add_argument("--config", type=Path, required=True, help="gates.yaml (see examples/gates.yaml)")
    args = parser.parse_args(argv)
    try:
        config = OmegaConf.to_container(OmegaConf.load(args.config), resolve=True)
        outcomes = compare.gate(args.baseline, args.candidate, config)
    except (FileNotFoundError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(compare.render_gates(outcomes))
    failed = [g for g in outcomes if g.failed]
    if failed:
        print(f"{len(failed)} gate(s) failed", file=sys.stderr)
        sys.exit(1)
    print("all gates passed")


def _noise_floor(argv: list[str]) -> None:
    from ztts1_eval.core import atomic
    from ztts1_eval.report import compare

    parser = argparse.ArgumentParser(
        prog="ztts1-eval noise-floor",
        description="Run-to-run spread of each metric: give stored run directories, or --runs K and Hydra "
                    "overrides to make K runs of one config with seeds seed, seed+1, ...")
    parser.add_argument("args", nargs="*", help="run directories, or Hydra overrides (key=value)")
    parser.add_argument("--runs", type=int, default=0)
    parser.add_argument("--out", type=Path, help="JSON to write (default: <results_dir>/<benchmark>/noise_floor_<system>.json)")
    args = parser.parse_args(argv)
    try:
        if args.runs:
            run_dirs = _seeded_runs(args.args, args.runs)
        else:
            run_dirs = [Path(a) for a in args.args]
        floor = compare.noise_floor(run_dirs)
    except (FileNotFoundError, ConfigError) as exc:
        sys.exit(f"error: {exc}")
    out = args.out or run_dirs[0].parent.parent / f"noise_floor_{floor['system']}.json"
    atomic.write_json(out, floor)
    for metric, columns in floor["metrics"].items():
        cell = columns.get("all", {})
        print(f"{metric}: std {cell.get('std')}, range {cell.get('range')} over {len(floor['runs'])} runs")
    print(f"-> {out}")


def _compose(*override_lists: list[str], throw_on_missing: bool = False) -> list[dict]:
    """The resolved run config of each override list, as ``ztts1-eval eval`` composes it."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(version_base="1.3", config_dir=str(locations.conf_dir())):
        return [OmegaConf.to_container(compose(config_name="config", overrides=overrides), resolve=True,
                                       throw_on_missing=throw_on_missing) for overrides in override_lists]


def _seeded_runs(overrides: list[str], count: int) -> list[Path]:
    from ztts1_eval.pipeline import runner

    [base] = _compose(overrides)
    seeded = [[o for o in overrides if not o.startswith("seed=")] + [f"seed={int(base['seed']) + k}"]
              for k in range(count)]
    configs = _compose(*seeded, throw_on_missing=True)
    return [runner.run(config, run_overrides).run_dir for config, run_overrides in zip(configs, seeded)]


def _doctor(argv: list[str]) -> None:
    from ztts1_eval import doctor

    if any(a in ("-h", "--help") for a in argv):
        print("usage: ztts1-eval doctor [scorers=paper] [system=zonos2] [hydra overrides] [doctor.<key>=<value>]\n"
              "Loads the stack's scorers and the system, runs them on probe clips and checks the numbers "
              "(ranges: conf/doctor.yaml). Exit 1 when a check fails.")
        return
    own = [a for a in argv if a.startswith("doctor.")]
    overrides = [a for a in argv if not a.startswith("doctor.")]
    try:
        # system=a,b checks each system (one scorer pass); every other override is the run config's
        names = next((o.split("=", 1)[1].split(",") for o in overrides if o.startswith("system=")), [None])
        rest = [o for o in overrides if not o.startswith("system=")]
        configs = _compose(*(rest + ([f"system={n}"] if n else []) for n in names))
        findings, source = doctor.run(configs[0], doctor.settings(own), systems=[c["system"] for c in configs])
    except ConfigError as exc:
        sys.exit(f"error: {exc}")
    print(doctor.render(findings, source))
    failed = [f for f in findings if f.failed]
    if failed:
        sys.exit(f"error: {len(failed)} check(s) failed; a long run with these weights would give wrong numbers")


def _speed(argv: list[str]) -> None:
    from ztts1_eval.core import atomic, provenance
    from ztts1_eval.serving import load

    parser = argparse.ArgumentParser(prog="ztts1-eval speed",
                                     description="Latency and throughput of a speech server or of a system.")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="server base URL, e.g. http://127.0.0.1:8000")
    target.add_argument("--system", help="a system config (conf/system/<name>.yaml) run in this process: API "
                                         "adapters, local and open models; --set overrides its options")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a Hydra override for --system, e.g. system.options.voice=rms (repeatable)")
    parser.add_argument("--protocol", default="openai", choices=sorted(load.PROTOCOLS),
                        help="openai: POST /v1/audio/speech (ours, sglang-omni, vLLM-omni); zonos2: the official "
                             "ZONOS2 server's POST /tts/generate")
    parser.add_argument("--path", default=None, help="default: the protocol's route")
    parser.add_argument("--manifest", type=Path, help="JSONL manifest whose target texts are sent (default: two "
                                                      "fixed English sentences)")
    parser.add_argument("--requests", type=int, default=16, help="measured requests per level (after warm-up)")
    parser.add_argument("--concurrency", default="1,4", help="closed-loop client counts, e.g. 1,4,16,64")
    parser.add_argument("--rate", type=float, default=None, help="open loop instead: Poisson arrivals per second")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--model", default="tts-1")
    parser.add_argument("--voice", default="alloy")
    parser.add_argument("--format", default="wav", choices=["wav", "pcm", "flac"])
    parser.add_argument("--no-stream", action="store_true", help="ask for the whole file (stream=false)")
    parser.add_argument("--max-new-tokens", type=int, default=None,
                        help="cap on generated frames per request (sglang-omni's benchmark sends 2048); default: "
                             "the server's own")
    parser.add_argument("--api-key-env", default=None, help="environment variable holding a bearer token")
    parser.add_argument("--label", help="the system's name in tables and the plot (default: the URL or system)")
    parser.add_argument("--out", type=Path, default=Path("results/speed/speed"),
                        help="writes <out>.md and <out>.json; latency_vs_throughput.png in its folder plots every "
                             "speed run stored there, one line per system")
    parser.add_argument("--clone", action="store_true",
                        help="send each manifest item's prompt as the reference (openai: ref_audio as a data URL and "
                             "ref_text, which sglang-omni, vLLM-omni and our server accept; zonos2: "
                             "speaker_audio_base64); a --system always gets the prompts")
    parser.add_argument("--data-root", type=Path, default=None, help="where the manifest's audio paths start "
                                                                      "(default: $ZTTS1_DATA_ROOT or the manifest's folder)")
    args = parser.parse_args(argv)
    if args.max_new_tokens is not None and (args.max_new_tokens < 1 or args.system):
        sys.exit("error: --max-new-tokens is a positive frame cap sent to a server (--url)")
    if args.clone and not args.manifest:
        sys.exit("error: --clone needs --manifest (its items' prompts are the references)")
    # (text, language, prompt file or None, prompt text) per request
    with_prompts = args.clone or bool(args.system)
    if args.manifest:
        from ztts1_eval.pipeline import manifest

        root = args.data_root or Path(os.environ.get("ZTTS1_DATA_ROOT") or args.manifest.parent)
        try:
            loaded = manifest.load(args.manifest, root, check_files=with_prompts)
        except manifest.ManifestError as exc:
            sys.exit(f"error: {exc}")
        items = [(item.target_text, item.language, loaded.resolve(item.prompt_wav) if with_prompts else None,
                  item.prompt_text) for item in loaded.items]
    else:
        from ztts1_eval.doctor.probes import SENTENCES

        items = [(text, "en", None, None) for text in SENTENCES]
    if not items:
        sys.exit(f"error: no target texts in {args.manifest}")
    items = [items[i % len(items)] for i in range(args.warmup + args.requests)]
    concurrency = [int(c) for c in args.concurrency.split(",")]
    if args.system:
        levels, record = _system_speed(args.system, args.set, items, concurrency, args.warmup, args.rate)
        where = f"system {args.system}"
    else:
        headers = {"Authorization": f"Bearer {os.environ[args.api_key_env]}"} if args.api_key_env else {}
        payload = load.shared_fields(args.protocol, args.model, args.voice, args.format, not args.no_stream,
                                     args.max_new_tokens)
        where = args.url.rstrip("/") + (args.path or load.PROTOCOLS[args.protocol])
        texts = [load.request_fields(args.protocol, text, prompt if args.clone else None, prompt_text)
                 for text, _, prompt, prompt_text in items]
        levels = [load.run_level(where, texts, c, payload, headers, warmup=args.warmup, rate=args.rate)
                  for c in concurrency]
        record = {"url": where, "payload": payload, "protocol": args.protocol,
                  "cloning": "each manifest item's prompt" if args.clone else None}
    markdown = load.render_markdown(levels, where)
    atomic.write_text(args.out.with_suffix(".md"), markdown)
    atomic.write_json(args.out.with_suffix(".json"), {**record, "label": args.label or where, "levels": levels,
                                                      "provenance": {"git": provenance.git_info()}})
    import json

    runs = []
    for path in sorted(args.out.parent.glob("*.json")):
        run = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(run, dict) and "levels" in run and "label" in run:
            runs.append(run)
    load.plot_runs(runs, args.out.parent / "latency_vs_throughput.png")
    print(markdown)


def _system_speed(name: str, overrides: list[str], items: list, concurrency: list[int], warmup: int,
                  rate: float | None) -> tuple[list[dict], dict]:
    """Load levels against a system built from its config, called in this process."""
    from hydra.errors import HydraException

    from systems import registry
    from systems.base import SynthesisRequest, SystemUnavailable
    from ztts1_eval.core.registry import RegistryError
    from ztts1_eval.serving import load

    try:
        [config] = _compose([f"system={name}", *overrides])
        spec = config["system"]
        system = registry.create(spec["type"], spec.get("options") or {})
    except (ConfigError, SystemUnavailable, RegistryError, HydraException, ValueError) as exc:
        sys.exit(f"error: {exc}")
    requests = [SynthesisRequest(item_id=f"speed-{i}", text=text, language=language, prompt_wav=prompt,
                                 prompt_text=prompt_text, seed=0) for i, (text, language, prompt, prompt_text)
                in enumerate(items)]
    try:
        levels = [load.run_system_level(system, requests, c, warmup=warmup, rate=rate) for c in concurrency]
        described = system.describe()
    finally:
        system.close()
    return levels, {"url": None, "system": {"type": spec["type"], "options": spec.get("options") or {},
                                            "describe": described}}


def _control(argv: list[str]) -> None:
    from ztts1_eval.report import control

    parser = argparse.ArgumentParser(prog="ztts1-eval control",
                                     description="Speaking-rate control accuracy of a stored sweep (runs of one "
                                                 "system differing in one option).")
    parser.add_argument("--benchmark", required=True)
    parser.add_argument("--system", required=True, help="the system type, e.g. espeak, piper, openai_speech")
    parser.add_argument("--option", required=True, help=f"the swept option ({', '.join(control.CONTROLS)}, ...)")
    parser.add_argument("--results-dir", type=Path, default=Path(os.environ.get("ZTTS1_RESULTS_DIR", "results")))
    args = parser.parse_args(argv)
    try:
        path = control.write(args.results_dir, args.benchmark, args.system, args.option)
    except ValueError as exc:
        sys.exit(f"error: {exc}")
    print(path.read_text())


def _data(argv: list[str]) -> None:
    from ztts1_eval.data.cli import main as data_main

    data_main(argv)


COMMANDS = {"eval": _eval, "report": _report, "merge": _finalize, "finalize": _finalize, "data": _data, "compare": _compare,
            "gate": _gate, "noise-floor": _noise_floor, "doctor": _doctor, "speed": _speed,
            "control": _control}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would bury a load test's output
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: ztts1-eval {{{','.join(COMMANDS)}}} [args]  (eval takes Hydra overrides)")
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
