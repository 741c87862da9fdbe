"""The codec ceiling row on a tiny random DAC in the real transformers format, through the
pipeline: every ground-truth recording resynthesized at 44.1 kHz, deterministic, and refused
plainly where there is no recording."""

import pytest
import soundfile as sf

from conftest import make_config
from systems import registry
from systems.base import SynthesisRequest, SystemUnavailable
from ztts1_eval.pipeline import runner
from zonos2 import random_checkpoint


def test_resynthesis_through_the_pipeline(tmp_path, samples):
    dac = random_checkpoint.write_tiny_dac(tmp_path / "dac")
    overrides = ["system=codec_resynthesis", f"system.options.codec={dac}", "benchmark.ids=[en-ljspeech_LJ001-0004]",
                 "~scorers.run.wer", "~scorers.run.sim", "~scorers.run.quality", "~scorers.run.prosody",
                 "speech_check=null",  # a random codec makes sound, not speech
                 f"results_dir={tmp_path / 'r'}", "progress=false"]
    summary = runner.run(make_config(overrides))
    items = summary.results.items().set_index("id")
    item = items.loc["en-ljspeech_LJ001-0004"]
    source = sf.info(str(samples / "en/ljspeech_LJ001-0004.flac"))
    assert item["status"] == "ok" and item["sample_rate"] == 44100
    assert item["duration_s"] == pytest.approx(source.duration, abs=512 / 44100)  # within one codec frame
    assert summary.results.system.section == "Reference" and summary.results.system.describe["n_codebooks"] == 9
    assert set(summary.results.system.describe["weights_sha256"]) == {"model.safetensors"}
    again = runner.run(make_config([*overrides[:-2], f"results_dir={tmp_path / 'r2'}", "progress=false"]))
    assert again.results.items()["output_sha256"].tolist() == items["output_sha256"].tolist()  # deterministic


def test_needs_a_recording_and_a_codec(tmp_path):
    dac = random_checkpoint.write_tiny_dac(tmp_path / "dac")
    system = registry.create("codec_resynthesis", {"codec": str(dac)})
    [result] = system.synthesize([SynthesisRequest("x", "text", "en", None, None, 0)])
    assert result.status == "failed" and "no ground-truth recording" in result.error
    with pytest.raises(SystemUnavailable, match="codec_resynthesis: DAC weights not found"):
        registry.create("codec_resynthesis", {"codec": str(tmp_path / "none")})
