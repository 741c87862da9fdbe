"""The doctor's probe clips: speech with a known text, a same-speaker pair, a different speaker,
and noise. Made on the spot by the Flite voices that set-up installs (no third-party audio in
the repository), or taken from a benchmark's own recordings when the user asks for them.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ztts1_eval.core import audio
from ztts1_eval.core.errors import ConfigError

# Two sentences of plain read English with known transcripts: the first and third of the
# "Please call Stella" elicitation paragraph (Speech Accent Archive), everyday words that a
# small n-gram ASR also knows (Harvard sentences: 50 % WER with PocketSphinx on Flite).
SENTENCES = ("Please call Stella and ask her to bring these things with her from the store.",
             "We also need a small plastic snake and a big toy frog for the kids.")
NOISE_SEED = 0


@dataclass(frozen=True)
class Probe:
    name: str
    clip: audio.Audio
    path: Path  # the clip as a WAV file (scorers fitted on recordings read files)
    text: str | None
    language: str
    speaker: str


@dataclass(frozen=True)
class Probes:
    """``speech``: clean read speech of one speaker (>= 2 clips, known texts); ``other``: a
    different speaker; ``noise``: no speech at all."""

    speech: list[Probe]
    other: Probe
    noise: Probe
    source: str

    @property
    def all(self) -> list[Probe]:
        return [*self.speech, self.other, self.noise]


def _noise(directory: Path, rate: int = 16000, seconds: float = 3.0) -> Probe:
    samples = (0.1 * np.random.default_rng(NOISE_SEED).standard_normal(int(rate * seconds))).astype(np.float32)
    path = directory / "noise.wav"
    audio.write_wav(path, samples, rate)
    return Probe("noise", audio.Audio(samples, rate), path, None, "en", "noise")


def synthesized(directory: Path | None = None) -> Probes:
    """Flite ``slt`` reads both sentences (same speaker), ``rms`` the first (another speaker)."""
    from systems import registry
    from systems.base import SynthesisRequest

    directory = Path(directory or tempfile.mkdtemp(prefix="ztts1-doctor-"))
    made = {}
    for voice, index in (("slt", 0), ("slt", 1), ("rms", 0)):
        system = registry.create("flite", {"voice": voice})
        [result] = system.synthesize([SynthesisRequest(f"{voice}-{index}", SENTENCES[index], "en", None, None, 0)])
        if result.status != "ok":
            raise ConfigError(f"doctor: flite ({voice}) could not make a probe clip: {result.error}")
        path = directory / f"flite-{voice}-{index}.wav"
        audio.write_wav(path, result.samples, result.sample_rate)
        made[(voice, index)] = Probe(f"flite {voice} #{index + 1}", audio.read_checked(path, "probe"), path,
                                     SENTENCES[index], "en", f"flite-{voice}")
    return Probes([made[("slt", 0)], made[("slt", 1)]], made[("rms", 0)], _noise(directory),
                  "synthesized: Flite slt (two sentences), Flite rms, Gaussian noise")


def from_benchmark(config: dict[str, Any], directory: Path | None = None) -> Probes:
    """Recordings of the configured benchmark: two of one speaker with their texts (English
    preferred), one of another speaker, plus generated noise."""
    from ztts1_eval.pipeline import benchmark

    directory = Path(directory or tempfile.mkdtemp(prefix="ztts1-doctor-"))
    manifest, items = benchmark.load(config["benchmark"], directory)
    usable = [i for i in items if i.gt_wav and i.target_text and i.speaker]
    usable.sort(key=lambda i: (i.language != "en", i.id))
    by_speaker: dict[str, list] = {}
    for item in usable:
        if item.gt_wav not in {other.gt_wav for other in by_speaker.get(item.speaker, [])}:
            by_speaker.setdefault(item.speaker, []).append(item)
    pair = next((group[:2] for group in by_speaker.values() if len(group) >= 2), None)
    if pair is None:
        raise ConfigError(f"doctor: benchmark {config['benchmark'].get('name')} has no speaker with two recordings "
                          "and texts; use the synthesized probes (doctor.probes=synth)")
    other = next((i for i in usable if i.speaker != pair[0].speaker), None)
    if other is None:
        raise ConfigError("doctor: the benchmark has one speaker only; use doctor.probes=synth")

    def probe(item) -> Probe:
        path = manifest.resolve(item.gt_wav)
        return Probe(item.id, audio.read_checked(path, "probe"), path, item.target_text, item.language, item.speaker)

    return Probes([probe(pair[0]), probe(pair[1])], probe(other), _noise(directory),
                  f"benchmark {config['benchmark'].get('name')}: {pair[0].id}, {pair[1].id} (one speaker), {other.id}")
