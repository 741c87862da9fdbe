"""TTSDS2 prosody: distances and score formula on distributions with known answers, the noise
sets against their published description, WORLD pitch against an independent estimator on real
speech, and the factor through the pipeline."""

import json
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import scipy.stats
import soundfile as sf

from conftest import make_config
from tiny_hubert_units import write_hubert
from ztts1_eval.core import audio
from ztts1_eval.pipeline import runner
from ztts1_eval.report import build as report
from ztts1_eval.prosody import noise
from ztts1_eval.prosody.distances import frechet_squared, ttsds_score, wasserstein2_1d
from ztts1_eval.prosody.factor import ttsds2_cell
from ztts1_eval.prosody.hubert_rate import choose_references, count_runs
from ztts1_eval.prosody.pitch import SAMPLE_RATE, f0_contour, mean_f0
from ztts1_eval.scorers import registry
from ztts1_eval.scorers.base import ScoreInput, ScorerUnavailable


def test_wasserstein_known_answers():
    assert wasserstein2_1d([0, 1, 2], [1, 2, 3]) == pytest.approx(1.0)
    assert wasserstein2_1d([3, 1, 2], [2, 3, 1]) == 0.0  # order does not matter
    assert wasserstein2_1d([5.0] * 10, [5.0, 5.0]) == 0.0  # subsampled to the smaller size
    rng = np.random.default_rng(0)
    assert wasserstein2_1d(rng.normal(0, 1, 20000), rng.normal(3, 1, 20000)) == pytest.approx(3.0, abs=0.05)
    # N(0,1) vs N(0,2): W2 = |sigma1 - sigma2| = 1
    assert wasserstein2_1d(rng.normal(0, 1, 20000), rng.normal(0, 2, 20000)) == pytest.approx(1.0, abs=0.05)
    with pytest.raises(ValueError):
        wasserstein2_1d([], [1.0])


def test_subsampling_matches_ttsds_global_seed_draw():
    """TTSDS seeds numpy's global generator with 0 and draws with np.random.choice."""
    big, small = np.arange(50, dtype=float) ** 1.5, np.linspace(0, 300, 7)
    np.random.seed(0)
    idx = np.random.choice(big.size, small.size, replace=False)
    expected = np.sqrt(np.mean((np.sort(big[idx]) - np.sort(small)) ** 2))
    assert wasserstein2_1d(big, small, seed=0) == pytest.approx(expected, rel=1e-12)
    assert wasserstein2_1d(small, big, seed=0) == pytest.approx(expected, rel=1e-12)


def test_frechet_known_answers():
    eye = np.eye(2)
    assert frechet_squared((np.zeros(2), eye), (np.zeros(2), eye)) == pytest.approx(0.0, abs=1e-9)
    assert frechet_squared((np.array([1.0, 0.0]), eye), (np.zeros(2), eye)) == pytest.approx(1.0)
    # Diagonal covariances: sum (sqrt(a) - sqrt(b))^2 plus the squared mean difference.
    a, b = np.diag([4.0, 9.0]), np.diag([1.0, 1.0])
    assert frechet_squared((np.array([0.0, 2.0]), a), (np.zeros(2), b)) == pytest.approx(4 + 1 + 4)
    rng = np.random.default_rng(1)
    samples = rng.normal(size=(5000, 3))
    assert frechet_squared(samples, samples + 2.0) == pytest.approx(12.0, rel=1e-6)  # shift only
    assert frechet_squared(samples, samples.copy()) == 0.0  # identical: exactly, not a sqrtm residue


def test_score_formula():
    assert ttsds_score([0.0], [5.0]) == 100.0  # indistinguishable from real speech
    assert ttsds_score([0.0], [6.515929727227629]) == 100.0  # 100 * d / d rounds to 99.99999999999999
    assert ttsds_score([2.0], [2.0]) == 50.0
    assert ttsds_score([3.0, 1.0], [9.0, 3.0]) == pytest.approx(75.0)  # min over sets: 100 * 3 / (1 + 3)
    assert ttsds_score([4.0], [0.0]) == 0.0  # as far as noise
    assert ttsds_score([0.0], [0.0]) is None


def test_noise_sets_follow_the_published_description():
    sets = {name: noise.noise_set(name) for name in noise.NOISE_SETS}
    assert set(sets) == {"all_ones", "all_zeros", "normal", "uniform"}
    for name, clips in sets.items():
        assert len(clips) == noise.N_UTTERANCES
        assert all(2.0 <= c.size / noise.SAMPLE_RATE <= 6.0 for c in clips)
        assert all(c.dtype == np.float32 and np.abs(c).max() <= 1.0 for c in clips)
        again = noise.noise_set(name)
        assert all(np.array_equal(a, b) for a, b in zip(clips, again))  # deterministic
    assert all((c == 1.0).all() for c in sets["all_ones"]) and all((c == 0.0).all() for c in sets["all_zeros"])
    uniform = np.concatenate(sets["uniform"])
    assert scipy.stats.kstest(uniform[::97], scipy.stats.uniform(loc=-1, scale=2).cdf).pvalue > 0.01
    normal = np.concatenate(sets["normal"])
    inner = normal[np.abs(normal) < 1.0][::97]  # the unclipped part follows N(0,1) truncated to (-1, 1)
    truncated = scipy.stats.truncnorm(-1, 1)
    assert scipy.stats.kstest(inner, truncated.cdf).pvalue > 0.01
    assert np.mean(np.abs(normal) == 1.0) == pytest.approx(2 * scipy.stats.norm.sf(1), abs=0.01)
    with pytest.raises(ValueError):
        noise.noise_set("pink")


def _write_noise_reference(root: Path) -> Path:
    """The four archives of ttsds/noise-reference in their published form (tar.gz of WAVs), with
    clips that show the reading rules: silence at the ends (trimmed), an empty file (16000 zeros),
    another rate (resampled to 22.05 kHz), a member that is not a WAV (ignored), archive order."""
    import io
    import tarfile

    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    bodies = {"all_ones": np.ones(16000), "all_zeros": np.zeros(16000),
              "normal": np.clip(rng.standard_normal(16000), -1, 1), "uniform": rng.uniform(-1, 1, 16000)}
    for name, file_name in noise.OFFICIAL_FILES.items():
        with tarfile.open(root / file_name, "w:gz") as archive:
            def add(member: str, data: bytes) -> None:
                info = tarfile.TarInfo(f"{name}/{member}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))

            def wav(samples: np.ndarray, rate: int) -> bytes:
                buffer = io.BytesIO()
                sf.write(buffer, samples.astype(np.float32), rate, format="WAV", subtype="FLOAT")
                return buffer.getvalue()

            padded = np.concatenate([np.zeros(8000), bodies[name], np.zeros(8000)])
            add("z_padded.wav", wav(padded, 16000))  # written first: archive order, not name order
            add("a_plain.wav", wav(bodies[name][:11025], 22050))
            add("README.txt", b"not audio")
            add("empty.wav", wav(np.zeros(0), 22050))
    return root


def test_official_noise_sets_are_read_as_ttsds_reads_them(tmp_path):
    directory = _write_noise_reference(tmp_path / "noise-reference")
    sets = noise.official_sets(directory)
    assert set(sets) == set(noise.NOISE_SETS) and all(len(clips) == 3 for clips in sets.values())
    for name, (padded, plain, empty) in sets.items():
        assert empty.size == 16000 and not empty.any()  # an empty file becomes 16000 zeros
        assert plain.size == 11025  # already at 22.05 kHz: whole
        if name == "all_zeros":  # nothing above -60 dB: librosa keeps an all-silent clip whole
            assert padded.size == 2 * SAMPLE_RATE
        elif name == "all_ones":
            assert padded.size == pytest.approx(SAMPLE_RATE, abs=2048)  # 1 s of ones, silence trimmed
            assert float(np.median(padded)) == pytest.approx(1.0, abs=0.01)  # level kept: no peak normalization
        else:
            assert padded.size == pytest.approx(SAMPLE_RATE, abs=2048)
    scorer = registry.create("ttsds2_prosody", {"benchmarks": ["pitch"], "noise_reference": str(directory)})
    ident = scorer.identity()
    assert ident["noise"]["source"] == "ttsds/noise-reference" and set(ident["noise"]["sha256"]) == set(noise.NOISE_SETS)
    assert ident["settings_note"] == "noise references: ttsds/noise-reference (official)"
    features = scorer.noise_features()["f0_mean"]
    assert {k: len(v) for k, v in features.items()} == {k: 3 for k in noise.NOISE_SETS}
    generated = registry.create("ttsds2_prosody", {"benchmarks": ["pitch"]}).identity()
    assert generated["settings_note"].startswith("noise references: generated here")
    (directory / noise.OFFICIAL_FILES["uniform"]).unlink()
    with pytest.raises(ScorerUnavailable, match="noise_uniform_distribution.tar.gz"):
        registry.create("ttsds2_prosody", {"benchmarks": ["pitch"], "noise_reference": str(directory)})


CLIPS = ["en/ljspeech_LJ001-0004.flac", "en/librispeech_2412-153948-0000.flac",
         "zh/aishell_BAC009S0724W0121.wav", "de/fleurs_de_004.ogg"]


@pytest.mark.parametrize("name", CLIPS)
def test_world_pitch_agrees_with_pyin_on_real_speech(name, samples):
    clip = audio.resample(audio.read_checked(samples / name), SAMPLE_RATE).samples
    f0 = f0_contour(clip)
    reference, voiced, _ = librosa.pyin(clip[: f0.size * 256], fmin=60, fmax=500, sr=SAMPLE_RATE,
                                        frame_length=1024, hop_length=256)
    n = min(f0.size, reference.size)
    both = (f0[:n] > 0) & voiced[:n]
    assert both.sum() > 40
    assert np.median(np.abs(f0[:n][both] - reference[:n][both])) < 6.0  # Hz
    assert 70 < mean_f0(clip) < 400


def test_pitch_of_a_tone_and_of_silence():
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    tone = sum(0.2 / k * np.sin(2 * np.pi * 180 * k * t) for k in range(1, 6)).astype(np.float32)
    assert mean_f0(tone) == pytest.approx(180, abs=2)
    assert mean_f0(np.zeros(SAMPLE_RATE, dtype=np.float32)) == pytest.approx(1e-6)
    with pytest.raises(ValueError, match="22050"):
        f0_contour(tone, 16000)


def test_factor_cell_on_synthetic_features():
    meta = {"identity": {"benchmarks": ["pitch"]},
            "noise_features": {"f0_mean": {"all_zeros": [1e-6] * 5, "uniform": [400.0, 420.0, 390.0]}}}
    real = pd.DataFrame({"f0_mean": [120.0, 180.0, 220.0], "f0_mean_ref": [120.0, 180.0, 220.0]})
    cell = ttsds2_cell(real, meta)
    assert cell["mean"] == 100.0 and cell["averaged"] == ["pitch"]
    shifted = real.assign(f0_mean=real["f0_mean"] + 50)
    bench = ttsds2_cell(shifted, meta)["benchmarks"]["pitch"]
    assert bench["d_ref"] == pytest.approx(50.0) and bench["closest_noise"] == "uniform"
    assert bench["score"] == pytest.approx(100 * bench["d_noise"] / (50 + bench["d_noise"]))
    assert ttsds2_cell(real.head(1), meta)["skipped"] == {"pitch": "fewer than 2 items"}
    assert ttsds2_cell(real, {"identity": meta["identity"]})["mean"] is None


def test_unknown_benchmarks_are_refused_by_name():
    with pytest.raises(ScorerUnavailable, match="not available"):
        registry.create("ttsds2_prosody", {"benchmarks": ["loudness"]})


def test_prosody_factor_through_the_pipeline(tmp_path, shared_cache):
    overrides = ["scorers=lite", "~scorers.run.wer", "~scorers.run.quality",
                 "benchmark.languages=[en,de]", f"results_dir={tmp_path}", f"cache_dir={shared_cache}",
                 "progress=false"]
    truth = runner.run(make_config(["system=ground_truth", *overrides]))
    flite = runner.run(make_config(["system=flite", *overrides]))
    for summary in (truth, flite):
        meta = json.loads((summary.run_dir / "scores/prosody/_scorer.json").read_text())
        assert set(meta["noise_features"]["f0_mean"]) == set(noise.NOISE_SETS)
    gt_groups = truth.results.by_language
    assert gt_groups["en"].cells["prosody.prosody"].mean == 100.0  # real speech vs itself
    assert gt_groups["de"].cells["prosody.prosody"].mean == 100.0
    flite_en = flite.results.by_language["en"].cells["prosody.prosody"]
    assert 0.0 < flite_en.mean < 95.0 and flite_en.details["averaged"] == ["pitch"]
    assert flite.results.by_language["de"].cells["prosody.prosody"].n_unsupported == 7
    items = pd.read_parquet(flite.run_dir / "items.parquet")
    english = items[items["language"] == "en"]
    assert (english["prosody_status"] == "ok").all() and english["prosody.f0_mean_ref"].between(70, 400).all()

    # The report draws the figures from stored files, each PNG beside the CSV of its numbers.
    report.report(tmp_path, "demo")
    plots_dir = tmp_path / "demo/plots"
    assert (plots_dir / "prosody_by_system.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    prosody = pd.read_csv(plots_dir / "prosody_by_system.csv")
    flite_label = flite.results.label
    flite_all = flite.results.by_subset
    [subset] = list(flite_all)
    row = prosody[prosody["system"] == flite_label].iloc[0]
    assert row["prosody"] == pytest.approx(flite_all[subset].cells["prosody.prosody"].mean)
    assert row["benchmarks"] == "pitch"
    by_language = pd.read_csv(plots_dir / "prosody_by_language.csv").set_index(["system", "language"])
    assert by_language.loc[(flite_label, "en"), "value"] == pytest.approx(flite_en.mean)
    assert (flite_label, "de") not in by_language.index  # flite speaks no German: no score, no bar
    assert by_language.loc[("Ground truth", "de"), "value"] == 100.0
    assert (plots_dir / "prosody_by_language.png").stat().st_size > 1000
    sims = pd.read_csv(plots_dir / "speaker_similarity_distribution.csv")
    assert (plots_dir / "speaker_similarity_distribution.png").stat().st_size > 1000
    assert len(sims[sims["system"] == flite_label]) == 12  # English items with a score
    assert sims.groupby("system")["sim"].mean().between(0, 100).all()

    # A second run of the same system (another seed) gets its run id in the figures' labels.
    runner.run(make_config(["system=flite", "seed=7", *overrides]))
    report.report(tmp_path, "demo")
    labels = set(pd.read_csv(plots_dir / "prosody_by_system.csv")["system"])
    assert sum(label.startswith(flite_label + " [") for label in labels) == 2


def test_unit_runs_and_reference_draw():
    assert count_runs([]) == 0 and count_runs([4]) == 1
    assert count_runs([1, 1, 2, 2, 2, 3, 1]) == 4
    candidates = [f"item{i:03d}" for i in range(250)]
    drawn = choose_references(candidates, 100, seed=42)
    assert len(drawn) == 100 and drawn == choose_references(candidates, 100, seed=42)
    assert drawn == sorted(drawn) and len(set(drawn)) == 100
    assert choose_references(candidates[:7], 100, seed=42) == candidates[:7]


def test_hubert_unit_rate_benchmark_through_the_pipeline(tmp_path, shared_cache):
    hubert = write_hubert(tmp_path / "hubert-tiny")
    prosody = ["scorers=paper", "~scorers.run.wer", "~scorers.run.sim", "~scorers.run.quality",
               "~scorers.run.diversity", f"scorers.run.prosody.hubert={hubert}", "scorers.run.prosody.unit_clusters=8",
               "scorers.run.prosody.multilingual_hubert=null",
               "scorers.run.prosody.benchmarks=[pitch,hubert_unit_rate]",
               "benchmark.languages=[en]", f"results_dir={tmp_path / 'r'}", f"cache_dir={shared_cache}",
               "progress=false"]
    truth = runner.run(make_config(["system=ground_truth", *prosody]))
    flite = runner.run(make_config(["system=flite", *prosody]))
    gt_cell = truth.results.overall.cells["prosody.prosody"]
    assert gt_cell.details["averaged"] == ["hubert_unit_rate", "pitch"] and gt_cell.mean == 100.0
    cell = flite.results.overall.cells["prosody.prosody"]
    assert cell.details["averaged"] == ["hubert_unit_rate", "pitch"]
    scores = {name: part["score"] for name, part in cell.details["benchmarks"].items()}
    assert 0 < scores["hubert_unit_rate"] < 100
    assert cell.mean == pytest.approx((scores["hubert_unit_rate"] + scores["pitch"]) / 2)
    items = pd.read_parquet(flite.run_dir / "items.parquet")
    assert items["prosody.hubert_unit_rate"].between(1, 60).all() and items["prosody.hubert_unit_rate_ref"].between(1, 60).all()
    ident = flite.results.scorers["prosody"].identity["features"]["hubert_unit_rate"]
    assert ident["fit_utterances"] == 12 and ident["layer"] == 7 and ident["clusters"] == 8
    # Every shard fits the units on the same recordings, so shards share one identity.
    shard = runner.run(make_config(["system=flite", *prosody, "shard.index=1", "shard.count=2"]))
    assert (json.loads((shard.run_dir / "scores/prosody/_scorer.json").read_text())["identity_hash"]
            == flite.results.scorers["prosody"].identity_hash)


def test_too_short_audio_is_a_per_item_failure():
    from ztts1_eval.core.audio import Audio
    from ztts1_eval.scorers.base import ScoreInput

    scorer = registry.create("ttsds2_prosody", {})
    scorer.load()
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    speechlike = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    out = scorer.score([ScoreInput("short", "en", Audio(speechlike[:500], SAMPLE_RATE),
                                   ground_truth=Audio(speechlike, SAMPLE_RATE)),
                        ScoreInput("fine", "en", Audio(speechlike, SAMPLE_RATE),
                                   ground_truth=Audio(speechlike, SAMPLE_RATE))])
    assert out[0].status == "failed" and "0.1 s" in out[0].reason
    assert out[1].status == "ok" and out[1].values["f0_mean"] == pytest.approx(150, abs=2)


def test_unreadable_references_are_left_out_of_the_unit_fit(tmp_path, samples):
    import soundfile as sf

    hubert = write_hubert(tmp_path / "hubert-tiny")
    scorer = registry.create("ttsds2_prosody", {"benchmarks": ["pitch", "hubert_unit_rate"], "hubert": str(hubert),
                                                "unit_clusters": 4})
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000, dtype=np.float32), 16000)
    good = samples / "en/ljspeech_LJ001-0004.flac"
    scorer.set_reference_recordings([("b-silent", silent, "0" * 64), ("a-good", good, "1" * 64)])
    features = scorer.identity()["features"]["hubert_unit_rate"]
    assert features["fit_utterances"] == 1 and features["fit_excluded"] == ["b-silent"]
    scorer.load()  # fits on the one good recording
    empty = registry.create("ttsds2_prosody", {"benchmarks": ["pitch", "hubert_unit_rate"], "hubert": str(hubert)})
    empty.set_reference_recordings([])  # a benchmark without real recordings: every item is n/a, no error here
    with pytest.raises(ScorerUnavailable, match="no readable real recordings"):
        empty.load()


def test_unit_centres_are_fitted_once_and_shared(tmp_path, samples, monkeypatch):
    from sklearn.cluster import KMeans

    from ztts1_eval.prosody import hubert_rate
    from ztts1_eval.pipeline.score_cache import ScoreCache

    frames = np.random.default_rng(3).normal(size=(300, 16))
    kmeans = KMeans(n_clusters=7, random_state=0, n_init=1).fit(frames)
    rate = hubert_rate.HubertUnitRate.__new__(hubert_rate.HubertUnitRate)
    rate.set_centres(kmeans.cluster_centers_)
    probe = np.random.default_rng(4).normal(size=(200, 16))
    assert np.array_equal(rate.assign(probe), kmeans.predict(probe))  # same rule as KMeans.predict

    hubert = write_hubert(tmp_path / "hubert-tiny")
    options = {"benchmarks": ["pitch", "hubert_unit_rate"], "hubert": str(hubert), "unit_clusters": 4}
    refs = [("a", samples / "en/ljspeech_LJ001-0004.flac", "1" * 64)]
    cache = ScoreCache(tmp_path / "cache")
    first = registry.create("ttsds2_prosody", options)
    first.set_reference_recordings(refs)
    first.attach_cache(cache)
    first.load()
    monkeypatch.setattr(hubert_rate.HubertUnitRate, "fit", lambda self, refs: pytest.fail("refitted"))
    second = registry.create("ttsds2_prosody", options)  # another shard or system run
    second.set_reference_recordings(refs)
    second.attach_cache(cache)
    second.load()
    assert np.array_equal(first.units["hubert_unit_rate"].rate.centres, second.units["hubert_unit_rate"].rate.centres)


def test_multilingual_units_english_keeps_hubert_base(tmp_path, samples):
    """TTSDS2 multilingual: mHuBERT-147 for every language but English, each model with units
    fitted on the recordings of its own languages; noise gets both; a mixed group is not scored."""
    base, multi = write_hubert(tmp_path / "hubert-base", seed=0), write_hubert(tmp_path / "mHuBERT-147", seed=1)
    scorer = registry.create("ttsds2_prosody", {"benchmarks": ["pitch", "hubert_unit_rate"], "hubert": str(base),
                                                "multilingual_hubert": str(multi), "unit_clusters": 4})
    english, german = samples / "en/ljspeech_LJ001-0004.flac", samples / "de/fleurs_de_004.ogg"
    scorer.set_reference_recordings([("a", english, "1" * 64, "en"), ("b", german, "2" * 64, "de"),
                                     ("c", samples / "es/fleurs_es_006.ogg", "3" * 64, "es")])
    features = scorer.identity()["features"]
    assert features["hubert_unit_rate"]["languages"] == "en" and features["hubert_unit_rate"]["fit_utterances"] == 1
    assert features["mhubert_unit_rate"]["languages"] == "all but en"
    assert features["mhubert_unit_rate"]["fit_utterances"] == 2 and features["mhubert_unit_rate"]["model"] == str(multi)
    scorer.load()
    clips = {lang: audio.resample(audio.read_checked(path), SAMPLE_RATE) for lang, path in (("en", english), ("de", german))}
    en, de = scorer.score([ScoreInput("e", "en", clips["en"], ground_truth=clips["en"]),
                           ScoreInput("d", "de", clips["de"], ground_truth=clips["de"])])
    assert "hubert_unit_rate" in en.values and "mhubert_unit_rate" not in en.values
    assert "mhubert_unit_rate" in de.values and "hubert_unit_rate" not in de.values
    assert en.values["hubert_unit_rate"] == en.values["hubert_unit_rate_ref"] > 0
    assert set(scorer.noise_features()) == {"f0_mean", "hubert_unit_rate", "mhubert_unit_rate"}
    meta = {"identity": {"benchmarks": ["hubert_unit_rate"]},
            "noise_features": {"hubert_unit_rate": {"normal": [1.0, 2.0]}, "mhubert_unit_rate": {"normal": [1.0, 2.0]}}}
    mixed = pd.DataFrame({"hubert_unit_rate": [5.0, None, 6.0], "hubert_unit_rate_ref": [5.0, None, 6.0],
                          "mhubert_unit_rate": [None, 7.0, None], "mhubert_unit_rate_ref": [None, 7.0, None]})
    cell = ttsds2_cell(mixed, meta)
    assert cell["mean"] is None and "mixes hubert_unit_rate and mhubert_unit_rate" in cell["skipped"]["hubert_unit_rate"]
    german_only = pd.DataFrame({"mhubert_unit_rate": [7.0, 8.0], "mhubert_unit_rate_ref": [7.0, 8.0]})
    assert ttsds2_cell(german_only, meta)["benchmarks"]["hubert_unit_rate"]["feature"] == "mhubert_unit_rate"
