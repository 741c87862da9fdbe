"""Does a system obey its speaking-rate control? A sweep is ordinary runs of one system that
differ only in one option (Hydra multirun, e.g. ``system.options.words_per_minute=120,160,200``);
this reads their stored results, measures each output's delivered rate and compares it with the
requested one. No model is loaded.

Delivered rate: the target text's units (words; characters for zh/ja/ko/yue) per second of
detected speech in the output (Silero VAD, ``output_speech_s``), so pauses do not count. Two more
measures stand beside it where the run scored them: the same units of the ASR transcript
(``wer.asr_hypothesis``: what was actually said, skipped words not counted) per speech second,
and Allosaurus phones per second (``prosody.phone_rate``, the prosody layer's). A
control is *absolute* when its value is a rate (espeak's words per minute: measured in words per
minute), *relative* when it is a factor (``speed``: 2 = twice as fast; piper's ``length_scale``:
2 = half as fast), measured against the median delivered rate at the factor 1 setting, or a
*bucket* (ZONOS2's ``conditioning.speaking_rate_bucket``: UTF-8 bytes of text per second, in the
release's ranges), where the measure is the bucket the delivered bytes/s falls in and the hit
rate counts outputs landing in the requested bucket. Nested options are dotted paths. An option
named after one of ZONOS2's quality features (``conditioning.quality_values.estimated_snr``...)
is a quality-mode sweep: the measure is that feature of each output
(``ztts1_eval.report.audio_features``), in its own unit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ztts1_eval.core import atomic, layout
from ztts1_eval.report.model import Results, load_results

CHARACTER_LANGUAGES = {"zh", "ja", "ko", "yue"}


@dataclass(frozen=True)
class Control:
    unit: str  # what the requested value measures
    kind: str  # "absolute" | "relative" | "inverse" (a factor whose reciprocal is the speed)


CONTROLS = {
    "words_per_minute": Control("words/min", "absolute"),
    "speed": Control("x speed", "relative"),
    "length_scale": Control("x duration", "inverse"),
    "conditioning.speaking_rate_bucket": Control("bucket (bytes/s)", "bucket"),
}
TRANSCRIPT = "wer.asr_hypothesis"  # the WER scorer's transcript of each output
PHONE_RATE = "prosody.phone_rate"  # Allosaurus phones per second (TTSDS2 prosody's allosaurus_rate)
# Other measures of the delivered rate: column -> (label, Spearman key, per-setting key)
ALTERNATES = {"transcript_measured": ("from ASR transcript", "spearman_transcript", "transcript_median"),
              "phones_per_s": ("phones/s (Allosaurus)", "spearman_phones", "phones_per_s_median")}
# What the setting costs or buys, per setting (item means): intelligibility, similarity, quality.
# By metric, whatever the scorer slot is called: metric -> (label, scale, decimals)
EFFECT_METRICS = {"wer": ("WER (%)", 100.0, 1), "sim": ("Spk. sim.", 1.0, 1), "utmos": ("UTMOS", 1.0, 2),
                  "utmosv2": ("UTMOSv2", 1.0, 2), "dnsmos_ovrl": ("DNSMOS OVRL", 1.0, 2)}


def effect_columns(columns) -> list[str]:
    """The items' ``<slot>.<metric>`` columns of the effect metrics, in ``EFFECT_METRICS`` order."""
    return [c for metric in EFFECT_METRICS for c in columns if isinstance(c, str) and c.partition(".")[2] == metric]
FEATURE_UNITS = {"lufs": "LUFS", "estimated_snr": "dB", "max_pause": "s", "estimated_bandlimit_hz": "Hz",
                 "leading_silence_s": "s", "trailing_silence_s": "s"}


def control_for(option: str) -> Control:
    feature = option.rsplit(".", 1)[-1]
    if feature in FEATURE_UNITS:
        return Control(FEATURE_UNITS[feature], "feature")
    return CONTROLS.get(option, Control(option, "relative"))
# ZONOS2's speaking-rate buckets (its released config's labels), bytes of text per second
RATE_BUCKETS = ("0-8", "8-11", "11-14", "14-17", "17-21", "21-28", "28-40", "40+")


def bucket_of(rate: float, labels: tuple[str, ...] = RATE_BUCKETS) -> int:
    """The bucket a rate falls in: the first whose upper edge is above it (ZONOS2's rule)."""
    for i, label in enumerate(labels):
        high = label.split("-")[1] if "-" in label else None
        if high is None or rate < float(high):
            return i
    return len(labels) - 1


def _get(options: dict[str, Any], path: str) -> Any:
    value: Any = options
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _without(options: dict[str, Any], path: str) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    if not rest:
        return {k: v for k, v in options.items() if k != head}
    return {**options, head: _without(dict(options.get(head) or {}), rest)}


def text_units(text: str, language: str) -> int:
    if language in CHARACTER_LANGUAGES:
        return sum(1 for ch in text if ch.isalnum())
    return len([w for w in text.split() if any(ch.isalnum() for ch in w)])


def delivered_rate(items: pd.DataFrame, unit: str = "text", column: str = "target_text") -> pd.Series:
    """Text units (``unit="bytes"``: UTF-8 bytes) of ``column`` (the target text, or the ASR
    transcript) per second of detected speech, per ok item (NaN where no speech was found)."""
    counts = [math.nan if not isinstance(t, str) else len(t.encode("utf-8")) if unit == "bytes" else text_units(t, lang)
              for t, lang in zip(items[column], items["language"])]
    units = pd.Series(counts, index=items.index, dtype=float)
    speech = items["output_speech_s"].where(items["output_speech_s"] > 0)
    return units / speech


def _options(run_dir: Path) -> dict[str, Any]:
    record = json.loads(layout.run_file(run_dir).read_text(encoding="utf-8"))
    system = (record.get("config") or record).get("system") or {}
    return dict(system.get("options") or {})


def sweep(results_dir: Path, benchmark: str, system_type: str, option: str) -> list[tuple[float, Results]]:
    """The runs of ``system_type`` on ``benchmark`` whose options differ only in ``option``, by
    requested value; refuses runs that differ in anything else (they are not one sweep)."""
    runs, others = [], None
    for run_dir in layout.run_dirs(results_dir, benchmark):
        try:
            result = load_results(run_dir)
        except (FileNotFoundError, ValueError):
            continue
        if (result.system.config.get("type") or result.system.name) != system_type:
            continue
        options = _options(run_dir)
        if _get(options, option) is None:
            continue
        rest = _without(options, option)
        if others is not None and rest != others:
            raise ValueError(f"{run_dir}: options other than {option} differ from the sweep's ({rest} vs {others})")
        others = rest
        runs.append((float(_get(options, option)), result))
    if len({value for value, _ in runs}) < 2:
        raise ValueError(f"a sweep needs runs of {system_type} at two or more {option} values on {benchmark}; "
                         f"run e.g. make eval SYSTEM={system_type} ARGS='system.options.{option}=<a>,<b>' (multirun)")
    return sorted(runs, key=lambda pair: pair[0])


def measure(runs: list[tuple[float, Results]], option: str) -> pd.DataFrame:
    """One row per ok item and setting: requested value, delivered rate, the measured value in
    the control's unit, and the item's WER / similarity where scored."""
    control = control_for(option)
    feature = option.rsplit(".", 1)[-1]
    frames = []
    for value, result in runs:
        items = result.items().set_index("id")
        items = items[items["status"] == "ok"]
        unit = "bytes" if control.kind == "bucket" else "text"
        rate = delivered_rate(items, unit)
        frame = pd.DataFrame({"requested": value, "rate": rate, "language": items["language"]}, index=items.index)
        if control.kind == "feature":
            frame["measured"] = [_feature(result.run_dir / wav, feature) for wav in items["output_wav"]]
        else:
            if TRANSCRIPT in items:
                frame["transcript_rate"] = delivered_rate(items, unit, TRANSCRIPT)
            if PHONE_RATE in items:
                frame["phones_per_s"] = pd.to_numeric(items[PHONE_RATE], errors="coerce")
        for column in effect_columns(items.columns):
            frame[column] = pd.to_numeric(items[column], errors="coerce")
        frames.append(frame)
    data = pd.concat(frames)
    if control.kind == "feature":
        return data.dropna(subset=["measured"])
    data = data.dropna(subset=["rate"])
    if control.kind in ("relative", "inverse") and not (data["requested"] == 1.0).any():
        raise ValueError(f"a relative control needs a run at {option}=1 as the reference rate")
    data["measured"] = in_control_unit(data, "rate", control)
    if "transcript_rate" in data:
        data["transcript_measured"] = in_control_unit(data, "transcript_rate", control)
    return data


def in_control_unit(data: pd.DataFrame, column: str, control: Control) -> pd.Series:
    """A delivered rate (units per second) in the control's unit: per minute (absolute), the
    bucket it falls in, or the factor against the median rate at the setting 1 (relative;
    its reciprocal for a duration factor)."""
    if control.kind == "absolute":  # words per minute
        return 60.0 * data[column]
    if control.kind == "bucket":
        return pd.Series([math.nan if math.isnan(r) else float(bucket_of(r)) for r in data[column]], index=data.index)
    factor = data[column] / float(data.loc[data["requested"] == 1.0, column].median())
    return factor if control.kind == "relative" else 1.0 / factor


def _feature(path: Path, feature: str) -> float:
    from ztts1_eval.core import audio
    from ztts1_eval.report import audio_features

    clip = audio.read(path)
    return audio_features.measure(clip.samples, clip.sample_rate)[feature]


def summarize(data: pd.DataFrame, option: str) -> dict[str, Any]:
    from scipy.stats import spearmanr

    control = control_for(option)
    per_setting = []
    for value, group in data.groupby("requested"):
        row = {"requested": value, "n": int(len(group)), "measured_median": float(group["measured"].median()),
               "measured_iqr": [float(group["measured"].quantile(0.25)), float(group["measured"].quantile(0.75))]}
        for column in effect_columns(group.columns):
            if group[column].notna().any():
                row[column] = float(group[column].mean())
        for column, (_, _, key) in ALTERNATES.items():
            if column in group and group[column].notna().any():
                row[key] = float(group[column].median())
        per_setting.append(row)

    def rank_correlation(column: str) -> float:
        known = data.dropna(subset=[column])
        varies = known["requested"].nunique() > 1 and known[column].nunique() > 1  # else none to compute
        return float(spearmanr(known["requested"], known[column]).statistic) if varies else math.nan

    summary = {"option": option, "unit": control.unit, "kind": control.kind, "items": int(len(data)),
               "spearman": rank_correlation("measured"),
               "mae": float((data["measured"] - data["requested"]).abs().mean()), "per_setting": per_setting}
    for column, (_, key, _) in ALTERNATES.items():
        if column in data and data[column].notna().any():
            summary[key] = rank_correlation(column)
    if control.kind == "bucket":
        summary["bucket_hit_rate"] = float((data["measured"] == data["requested"]).mean())
    return summary


def render(summary: dict[str, Any], system: str) -> str:
    alternates = [(label, key, per) for label, key, per in ALTERNATES.values() if key in summary]
    effects = effect_columns(dict.fromkeys(key for row in summary["per_setting"] for key in row))
    also = "".join(f"; {label}: {summary[key]:.3f}" for label, key, _ in alternates)
    lines = [f"# Control accuracy: {system}, `{summary['option']}` ({summary['unit']})", "",
             f"Spearman rank correlation requested vs measured: **{summary['spearman']:.3f}** over "
             f"{summary['items']} outputs{also}; mean absolute error: **{summary['mae']:.3g} {summary['unit']}**"
             + (f"; in the requested bucket: **{100 * summary['bucket_hit_rate']:.1f} %**" if "bucket_hit_rate" in summary
                else "") + ".", "",
             "| requested | n | measured median | IQR | "
             + "".join(f"{label} | " for label, _, _ in alternates)
             + "".join(f"{EFFECT_METRICS[column.partition('.')[2]][0]} | " for column in effects).rstrip(),
             "|---:|---:|---:|---:|" + "---:|" * (len(alternates) + len(effects))]
    for row in summary["per_setting"]:
        others = "".join(f"{row[per]:.3g} | " if per in row else " | " for _, _, per in alternates)
        for column in effects:
            _, scale, digits = EFFECT_METRICS[column.partition(".")[2]]
            others += f"{scale * row[column]:.{digits}f} | " if column in row else " | "
        lines.append(f"| {row['requested']:g} | {row['n']} | {row['measured_median']:.3g} | "
                     f"{row['measured_iqr'][0]:.3g}–{row['measured_iqr'][1]:.3g} | " + others.rstrip())
    if summary["kind"] == "feature":
        lines += ["", "Measured: the feature on each output (ztts1_eval/report/audio_features.py definitions)."]
    else:
        lines += ["", "Measured: target-text words (characters for zh/ja/ko; UTF-8 bytes for rate buckets) per "
                      "second of detected speech (Silero VAD), in the control's unit (relative controls: against "
                      "the median at 1). Where scored, the same from the ASR transcript (what was said), and "
                      "Allosaurus phones per second (median per setting, in phones/s)."]
    return "\n".join(lines) + "\n"


def plot(data: pd.DataFrame, summary: dict[str, Any], system: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    ax.scatter(data["requested"], data["measured"], s=10, alpha=0.35, label="outputs")
    medians = [(row["requested"], row["measured_median"]) for row in summary["per_setting"]]
    ax.plot(*zip(*medians), marker="o", color="C1", label="median")
    low, high = float(min(data["requested"].min(), data["measured"].min())), float(max(data["requested"].max(),
                                                                                      data["measured"].max()))
    ax.plot([low, high], [low, high], linestyle="--", color="grey", label="requested = measured")
    ax.set_xlabel(f"requested {summary['option']} ({summary['unit']})")
    ax.set_ylabel(f"measured ({summary['unit']})")
    ax.set_title(f"{system}: rate control (Spearman {summary['spearman']:.2f})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(results_dir: Path, benchmark: str, system_type: str, option: str) -> Path:
    """``<results_dir>/<benchmark>/control/<system>_<option>.{md,csv,json,png}``; returns the .md."""
    runs = sweep(results_dir, benchmark, system_type, option)
    data = measure(runs, option)
    summary = summarize(data, option)
    out = results_dir / benchmark / "control" / f"{system_type}_{option}"
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out.with_suffix(".md"), render(summary, system_type))
    atomic.write_text(out.with_suffix(".csv"), data.reset_index().to_csv(index=False))
    atomic.write_json(out.with_suffix(".json"), {**summary, "runs": [r.run_id for _, r in runs]})
    plot(data, summary, system_type, out.with_suffix(".png"))
    return out.with_suffix(".md")

