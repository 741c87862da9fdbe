"""`ztts1-eval doctor` on real offline models: its probe clips, judged and unjudged checks, and
a system's own component checks (ZONOS2's DAC round trip on a tiny random codec)."""

import numpy as np

from conftest import make_config
from ztts1_eval import doctor
from ztts1_eval.doctor import checks, probes


def test_probes_and_a_real_scorer_judged_and_unjudged():
    config = make_config(["scorers=lite", "~scorers.run.wer", "~scorers.run.quality", "~scorers.run.prosody",
                          "system=ground_truth"])
    made = probes.synthesized()
    assert [p.text for p in made.speech] == list(probes.SENTENCES) and made.other.speaker != made.speech[0].speaker
    assert made.noise.text is None and made.noise.clip.duration_s == 3.0
    judged, source = doctor.run(config, doctor.settings([]))
    assert source.startswith("synthesized: Flite slt")
    sim, system = judged
    assert sim.component == "scorer sim (resemblyzer_sim)" and sim.verdict == "ok" and sim.range == ">= 5"
    same, other = (float(x) for x in sim.value.split(" = ")[0].split(" - "))
    assert same > 85 and other < 75  # measured 92.0 and 57.8 (conf/doctor.yaml)
    assert system.component == "system Ground truth" and system.verdict == "ok" and "s of" in system.value
    unjudged, _ = doctor.run(config, doctor.settings(["doctor.check_ranges=false"]))
    assert [f.verdict for f in unjudged] == [checks.UNCHECKED, "ok"]  # no range on the plain reading
    table = doctor.render(judged, source)
    assert table.splitlines()[0] == "| Component | Weights | Load (s) | Check | Value | Range | Verdict |"


def test_zonos2_component_checks_fail_a_random_codec(tmp_path):
    from systems.zonos2 import Zonos2
    from zonos2 import random_checkpoint

    random_checkpoint.write(tmp_path / "ckpt", random_checkpoint.tiny_config(), seed=0)
    random_checkpoint.write_tiny_dac(tmp_path / "dac")
    (tmp_path / "emb").mkdir()
    system = Zonos2(checkpoint=str(tmp_path / "ckpt"), vocoder=str(tmp_path / "dac"),
                    speaker_embeddings_dir=str(tmp_path / "emb"), device="cpu", dtype="float32")
    made = probes.synthesized(tmp_path / "probes")
    found = checks._component_checks(system, "ZONOS2", {"type": "zonos2"}, made,
                                     checks.Ranges(doctor.settings([])["ranges"]))
    [dac] = found
    assert dac.check == "DAC encode -> decode of speech, spectral SNR" and dac.range == ">= 3"
    assert dac.verdict == "FAIL" and "wrong codec weights or sample rate" in dac.message
    snr = float(dac.value.split()[0])
    samples = made.speech[0].clip.samples
    assert np.isfinite(snr) and snr < 1.0 and samples.size > 0
