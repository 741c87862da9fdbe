"""``ztts1-eval doctor``: prove, in a minute, that the configured scorers' and system's weights
load and give sane numbers on this machine, before a long run (see ``checks`` and
``conf/doctor.yaml``)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from ztts1_eval.core import locations
from ztts1_eval.doctor import probes as probes_mod
from ztts1_eval.doctor.checks import Finding, Ranges, check_scorer, check_system


def settings(overrides: list[str]) -> dict[str, Any]:
    """``conf/doctor.yaml`` with ``doctor.<key>=<value>`` overrides."""
    base = OmegaConf.load(Path(locations.conf_dir()) / "doctor.yaml")
    extra = OmegaConf.from_dotlist([o[len("doctor."):] for o in overrides])
    return OmegaConf.to_container(OmegaConf.merge(base, extra), resolve=True)


def run(config: dict[str, Any], doctor: dict[str, Any],
        systems: list[dict[str, Any]] | None = None) -> tuple[list[Finding], str]:
    """Findings for every scorer of the config's stack, then for each system (default: the
    config's); and the probes' source."""
    ranges = Ranges(doctor["ranges"], check=bool(doctor.get("check_ranges", True)))
    with tempfile.TemporaryDirectory(prefix="ztts1-doctor-") as work:  # probe clips and caches, removed after
        work_dir = Path(work)
        if doctor.get("probes", "synth") == "benchmark":
            probes = probes_mod.from_benchmark(config, work_dir)
        else:
            probes = probes_mod.synthesized(work_dir)
        findings: list[Finding] = []
        asr = None
        for slot, spec in (config["scorers"].get("run") or {}).items():
            found, kept = check_scorer(slot, dict(spec), probes, ranges, work_dir=work_dir,
                                       keep=lambda s: asr is None and any(m.field == "wer" for m in s.info.metrics))
            findings += found
            asr = asr or kept
        try:
            for system in systems or [config["system"]]:
                findings += check_system(system, probes, ranges, asr, bool(doctor.get("call_apis", False)))
        finally:
            if asr is not None:
                asr.close()
    return findings, probes.source


def render(findings: list[Finding], source: str) -> str:
    lines = ["| Component | Weights | Load (s) | Check | Value | Range | Verdict |", "|---|---|---:|---|---|---|---|"]
    for f in findings:
        load = "" if f.load_s is None else f"{f.load_s:.1f}"
        cells = [f.component, f.weights, load, f.check, f.value, f.range, f.verdict]
        # a version banner can hold newlines or pipes: one table row per finding all the same
        lines.append("| " + " | ".join(" ".join(str(c).split()).replace("|", "/") for c in cells) + " |")
    lines += ["", f"Probes: {source}."]
    lines += [f"- {f.verdict}: {f.message}" for f in findings if f.message]
    return "\n".join(lines) + "\n"
