"""`ztts1-eval doctor` on real offline models: its probe clips, judged and unjudged checks, and
a system's own component checks (ZONOS2's DAC round trip on a tiny random codec)."""

import numpy as np

from conftest import make_config
from tiny_speaker_encoder import write_tiny_encoder
from ztts1_eval import doctor
from ztts1_eval.doctor import checks, probes


def test_probes_and_a_real_scorer_judged_and_unjudged(tmp_path):
    config = make_config(["scorers=lite", "~scorers.run.wer", "~scorers.run.quality", "~scorers.run.prosody",
                          "system=ground_truth"])
    made = probes.synthesized(tmp_path)
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


def test_benchmark_probes_are_one_speakers_pair_and_another(samples, tmp_path):
    made = probes.from_benchmark(make_config(["benchmark=demo"]), tmp_path)
    first, second = made.speech
    assert first.speaker == second.speaker and first.path != second.path and made.other.speaker != first.speaker
    assert first.language == "en" and first.text and made.source.startswith("benchmark demo:")


def test_api_systems_are_called_only_when_asked(monkeypatch):
    """Without doctor.call_apis the adapter only starts (its key is checked) and no request is
    sent; with it, one short request to the provider's endpoint (here a loopback server)."""
    from loopback import Server
    from test_api_adapters import KEY, speech_wav

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    server = Server()
    server.route("POST", r"/v1/audio/speech", lambda r: (200, {"Content-Type": "audio/wav"}, speech_wav()))
    url = server.start()
    try:
        config = make_config(["scorers=lite", "~scorers.run.wer", "~scorers.run.sim", "~scorers.run.quality",
                              "~scorers.run.prosody", "system=openai_speech", f"system.options.base_url={url}/v1"])
        [quiet], _ = doctor.run(config, doctor.settings([]))
        assert quiet.verdict == checks.NOT_RUN and "doctor.call_apis=true" in quiet.message and not server.requests
        [called], _ = doctor.run(config, doctor.settings(["doctor.call_apis=true"]))
    finally:
        server.stop()
    assert called.verdict == "ok" and len(server.requests) == 1 and "s of" in called.value
    monkeypatch.delenv("OPENAI_API_KEY")
    [missing], _ = doctor.run(config, doctor.settings([]))
    assert missing.verdict == "FAIL" and "OPENAI_API_KEY" in missing.message


def test_zonos2_speaker_encoder_check_catches_a_wrong_embedding_size(tmp_path):
    from systems.zonos2 import Zonos2
    from zonos2 import random_checkpoint

    random_checkpoint.write(tmp_path / "ckpt", random_checkpoint.tiny_config(), seed=0)
    made = probes.synthesized(tmp_path / "probes")
    ranges = checks.Ranges(doctor.settings([])["ranges"])
    found = {}
    for dim in (2048, 1024):  # the release size, and an encoder of another size (a wrong snapshot)
        encoder = write_tiny_encoder(tmp_path / f"spk{dim}", dim)
        system = Zonos2(checkpoint=str(tmp_path / "ckpt"), vocoder="", device="cpu", dtype="float32",
                        speaker_encoder=str(encoder), speaker_encoder_trust_remote_code=True)
        [found[dim]] = checks._component_checks(system, "ZONOS2", {"type": "zonos2"}, made, ranges)
    assert found[2048].value.startswith("(2048,) ok;") and found[1024].value.startswith("(2048,) BAD;")
    assert found[1024].verdict == "FAIL" and "speaker encoder" in found[1024].message
    same, other = (float(x) for x in found[2048].value.split("; ")[1].split(" = ")[0].split(" - "))
    assert -1.0 <= other <= 1.0 and -1.0 <= same <= 1.0
