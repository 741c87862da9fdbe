"""One finding per check: each configured scorer and system is resolved, loaded and run on the
probe clips, and its output is held against a range a correctly loaded model must meet
(``conf/doctor.yaml``). Which check a scorer gets follows from its metrics: a ``wer`` field is
transcribed, a ``sim`` field compares speakers, a MOS field compares speech with noise; any
other scorer must run on the probes and return finite values.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ztts1_eval.core import audio
from ztts1_eval.core.checksums import file_sha256
from ztts1_eval.doctor.probes import Probe, Probes
from ztts1_eval.scorers.base import ScoreInput, ScoreOutput, Scorer

MOS_FIELDS = ("utmos", "utmosv2", "dnsmos_ovrl", "dnsmos_p808")
OK, FAIL, UNCHECKED, NOT_RUN = "ok", "FAIL", "ran (range not checked)", "not run"


@dataclass
class Finding:
    component: str
    weights: str = ""
    load_s: float | None = None
    check: str = ""
    value: str = ""
    range: str = ""
    verdict: str = OK
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.verdict == FAIL


@dataclass(frozen=True)
class Ranges:
    """``conf/doctor.yaml``'s ranges, per scorer type with a default; ``check`` false: values
    are reported and nothing is judged (random test weights)."""

    table: dict[str, dict[str, float]]
    check: bool = True

    def get(self, kind: str, component_type: str) -> float:
        """The range of ``kind`` for a scorer or system type, else the kind's default."""
        entry = self.table[kind]
        return float(entry.get(component_type, entry["default"]))


def _weights(identity: dict[str, Any]) -> str:
    """Model (or voice, or codec) and revision, then package or version, device and dtype where
    the identity (a scorer's identity, a system's describe()) has them."""
    model = next((str(identity[k]) for k in ("model", "voice", "voice_file", "codec", "type")
                  if isinstance(identity.get(k), str)), "")
    model += f"@{identity['revision']}" if identity.get("revision") else ""
    extra = "; ".join(str(identity[k]) for k in ("package", "version", "device", "dtype") if identity.get(k))
    return model + (f" ({extra})" if extra else "")


def _input(scorer: Scorer, probe: Probe, **kwargs: Any) -> ScoreInput:
    def at_rate(clip: audio.Audio) -> audio.Audio:
        return audio.resample(clip, scorer.info.rate_for(clip.sample_rate))

    extra = {key: (at_rate(value.clip) if isinstance(value, Probe) else
                   [at_rate(p.clip) for p in value] if isinstance(value, list) else value)
             for key, value in kwargs.items()}
    return ScoreInput(item_id=probe.name, language=probe.language, audio=at_rate(probe.clip), **extra)


def _judge(finding: Finding, ranges: Ranges, passed: bool, message: str) -> Finding:
    if not ranges.check:
        finding.verdict = UNCHECKED
    elif not passed:
        finding.verdict, finding.message = FAIL, message
    return finding


def _wer(scorer: Scorer, label: str, probes: Probes, ranges: Ranges, finding: Finding) -> Finding:
    outputs = scorer.score([_input(scorer, p, text=p.text) for p in probes.speech])
    failed = [o.reason for o in outputs if o.status != "ok"]
    if failed:
        finding.verdict, finding.message = FAIL, f"{label}: transcribing clean speech failed: {failed[0]}"
        return finding
    wer = sum(float(o.values["wer"]) for o in outputs) / len(outputs)
    limit = ranges.get("wer", scorer.type_name)
    finding.check, finding.value, finding.range = "WER, clean read English", f"{100 * wer:.1f} %", f"<= {100 * limit:.0f} %"
    heard = next((o.values.get("asr_hypothesis") for o in outputs if o.values.get("asr_hypothesis") is not None), "")
    return _judge(finding, ranges, wer <= limit,
                  f"{label}: WER {100 * wer:.1f} % on clean read English > {100 * limit:.0f} % (heard {heard!r}): "
                  "wrong checkpoint, tokenizer, language prompt or sample rate?")


def _similarity(scorer: Scorer, label: str, probes: Probes, ranges: Ranges, finding: Finding) -> Finding:
    first, second = probes.speech[:2]
    outputs = scorer.score([_input(scorer, second, reference=first), _input(scorer, probes.other, reference=first)])
    if any(o.status != "ok" for o in outputs):
        finding.verdict, finding.message = FAIL, f"{label}: {next(o.reason for o in outputs if o.status != 'ok')}"
        return finding
    same, other = (float(o.values["sim"]) for o in outputs)
    margin = ranges.get("sim_margin", scorer.type_name)
    finding.check = "same-speaker minus other-speaker similarity"
    finding.value, finding.range = f"{same:.1f} - {other:.1f} = {same - other:.1f}", f">= {margin:g}"
    return _judge(finding, ranges, same - other >= margin,
                  f"{label}: same-speaker {same:.1f} is not above different-speaker {other:.1f} by {margin:g}: "
                  "wrong checkpoint variant, feature settings or sample rate?")


def _mos(scorer: Scorer, label: str, field: str, probes: Probes, ranges: Ranges, finding: Finding) -> Finding:
    outputs = scorer.score([_input(scorer, p) for p in probes.speech] + [_input(scorer, probes.noise)])
    if any(o.status != "ok" for o in outputs):
        finding.verdict, finding.message = FAIL, f"{label}: {next(o.reason for o in outputs if o.status != 'ok')}"
        return finding
    values = [float(o.values[field]) for o in outputs]
    clean, noise = sum(values[:-1]) / (len(values) - 1), values[-1]
    margin = ranges.get("mos_margin", scorer.type_name)
    finding.check = f"{field}: clean speech minus noise"
    finding.value, finding.range = f"{clean:.2f} - {noise:.2f} = {clean - noise:.2f}", f">= {margin:g}"
    return _judge(finding, ranges, clean - noise >= margin,
                  f"{label}: clean speech {clean:.2f} is not above noise {noise:.2f} by {margin:g}: "
                  "wrong checkpoint, input scale or sample rate?")


def _runs(scorer: Scorer, label: str, probes: Probes, finding: Finding) -> Finding:
    first, second = probes.speech[:2]
    outputs: list[ScoreOutput] = scorer.score([_input(scorer, second, reference=first, text=second.text,
                                                      ground_truth=second, samples=[first, second])])
    finding.check = "runs on the probes, finite values"
    bad = [o.reason for o in outputs if o.status != "ok"]
    numbers = [v for o in outputs for v in o.values.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    finding.value = f"{len(numbers)} values"
    if bad or not all(math.isfinite(v) for v in numbers):
        finding.verdict = FAIL
        finding.message = f"{label}: " + (bad[0] or "failed" if bad else "non-finite values on clean speech")
    return finding


def check_scorer(slot: str, spec: dict[str, Any], probes: Probes, ranges: Ranges,
                 keep: Callable[[Scorer], bool] = lambda s: False,
                 work_dir: Path | None = None) -> tuple[list[Finding], Scorer | None]:
    """Resolve, load and run one scorer slot; returns its findings and the scorer when ``keep``
    asks to keep it loaded (the system check transcribes with it). ``work_dir`` holds the
    scorer's cache (a temporary folder by default)."""
    from ztts1_eval.pipeline.score_cache import ScoreCache
    from ztts1_eval.scorers import registry

    label = f"{slot} ({spec['type']})"
    finding = Finding(f"scorer {label}")
    try:
        scorer = registry.create(spec["type"], {k: v for k, v in spec.items() if k != "type"})
        if scorer.info.fits_on_references:
            scorer.set_reference_recordings([(p.name, p.path, file_sha256(p.path), p.language)
                                             for p in [*probes.speech, probes.other]])
        scorer.attach_cache(ScoreCache(Path(work_dir or tempfile.mkdtemp(prefix="ztts1-doctor-")) / f"cache-{slot}"))
        finding.weights = _weights(scorer.identity())
        start = time.perf_counter()
        scorer.load()
        finding.load_s = time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - every cause is a finding with its message
        finding.verdict, finding.message = FAIL, f"{label}: cannot load: {type(exc).__name__}: {exc}"
        return [finding], None
    findings = []
    try:
        fields = [m.field for m in scorer.info.metrics]
        if "wer" in fields:
            findings.append(_wer(scorer, label, probes, ranges, finding))
        elif "sim" in fields:
            findings.append(_similarity(scorer, label, probes, ranges, finding))
        elif any(f in MOS_FIELDS for f in fields):
            findings.append(_mos(scorer, label, next(f for f in fields if f in MOS_FIELDS), probes, ranges, finding))
        else:
            findings.append(_runs(scorer, label, probes, finding))
    except Exception as exc:  # noqa: BLE001
        finding.verdict, finding.message = FAIL, f"{label}: scoring the probes raised {type(exc).__name__}: {exc}"
        findings = [finding]
    if keep(scorer) and not any(f.failed for f in findings):
        return findings, scorer
    scorer.close()
    return findings, None


def check_system(spec: dict[str, Any], probes: Probes, ranges: Ranges, asr: Scorer | None,
                 call_apis: bool) -> list[Finding]:
    """Synthesize one short sentence cloned from a probe; it must contain speech, and where a
    WER scorer is configured, read the sentence. Then the system's own component checks."""
    from systems import registry
    from systems.api.base import ApiSystem

    label = spec.get("label") or spec["name"]
    finding = Finding(f"system {label}")
    try:
        start = time.perf_counter()
        system = registry.create(spec["type"], spec.get("options") or {})
        finding.load_s = time.perf_counter() - start
        finding.weights = _weights(system.describe())
    except Exception as exc:  # noqa: BLE001
        finding.verdict, finding.message = FAIL, f"{label}: cannot start: {type(exc).__name__}: {exc}"
        return [finding]
    try:
        if isinstance(system, ApiSystem) and not call_apis:
            finding.check, finding.verdict = "credentials present (no request sent)", NOT_RUN
            finding.message = "set doctor.call_apis=true for one short synthesis request (it may cost money)"
            return [finding]
        return [_reading(system, label, spec, probes, ranges, asr, finding),
                *_component_checks(system, label, spec, probes, ranges)]
    finally:
        system.close()


def _component_checks(system, label: str, spec: dict[str, Any], probes: Probes, ranges: Ranges) -> list[Finding]:
    try:
        checks = system.self_checks([(p.clip.samples, p.clip.sample_rate) for p in probes.speech],
                                    (probes.other.clip.samples, probes.other.clip.sample_rate))
    except Exception as exc:  # noqa: BLE001
        return [Finding(f"system {label}", check="component checks", verdict=FAIL,
                        message=f"{label}: component checks raised {type(exc).__name__}: {exc}")]
    found = []
    for check in checks:
        minimum = ranges.get(check["range_key"], spec["type"])
        finding = Finding(f"system {label}", check=check["check"], value=check["value"], range=f">= {minimum:g}")
        found.append(_judge(finding, ranges, check["measured"] >= minimum, f"{label}: {check['message']}"))
    return found


def _reading(system, label: str, spec: dict[str, Any], probes: Probes, ranges: Ranges, asr: Scorer | None,
             finding: Finding) -> Finding:
    """The system reads the second probe sentence, cloning the first probe of that speaker."""
    from systems.base import SynthesisRequest
    from ztts1_eval.pipeline.speech_check import SpeechCheck

    prompt, target = probes.speech[0], probes.speech[1]
    [result] = system.synthesize([SynthesisRequest("doctor", target.text, "en", prompt.path, prompt.text, 0,
                                                   gt_wav=target.path)])
    if result.status != "ok":
        finding.verdict, finding.message = FAIL, f"{label}: synthesis failed: {result.error}"
        return finding
    clip = audio.from_samples(result.samples, result.sample_rate, what="system output")
    speech = SpeechCheck().speech_seconds(clip)
    finding.check, finding.value = "speech in its reading of one sentence", f"{speech:.2f} s of {clip.duration_s:.2f} s"
    if speech <= 0:
        return _judge(finding, ranges, False, f"{label}: no speech in its output (Silero VAD): wrong vocoder, "
                                              "sample rate or output scale?")
    if asr is None or not asr.info.supports("en"):
        return finding
    [output] = asr.score([ScoreInput("doctor", "en", audio.resample(clip, asr.info.rate_for(clip.sample_rate)),
                                     text=target.text)])
    wer = float(output.values.get("wer", math.inf)) if output.status == "ok" else math.inf
    limit = ranges.get("system_wer", spec["type"])
    finding.check = f"speech, and WER of its reading ({asr.type_name})"
    finding.value += f"; WER {100 * wer:.1f} %"
    finding.range = f"<= {100 * limit:.0f} %"
    return _judge(finding, ranges, wer <= limit,
                  f"{label}: WER {100 * wer:.1f} % on its reading of {target.text!r} > {100 * limit:.0f} % "
                  f"(heard {output.values.get('asr_hypothesis', '')!r}): wrong checkpoint, prompt layout or "
                  "sampler settings?")
