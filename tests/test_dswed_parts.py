"""DS-WED building blocks: Silero VAD trimming on real speech padded with silence, HuBERT units
from a tiny random HubertModel saved in the real transformers format with a tiny k-means file in
the real (joblib, scikit-learn) format, and the weighted edit distance."""

import joblib
import numpy as np
import pytest

from tiny_hubert_units import write_hubert, write_kmeans
from ztts1_eval.core import audio
from ztts1_eval.prosody import vad
from ztts1_eval.prosody.dswed import mean_pairwise_distance, weighted_edit_distance
from ztts1_eval.prosody.units import UnitExtractor

SPEECH = "en/librispeech_2412-153948-0001.flac"  # 16 kHz


@pytest.fixture(scope="module")
def speech(samples):
    return audio.read_checked(samples / SPEECH).samples[: 4 * 16000]


def test_vad_trims_padding_but_keeps_the_speech(speech):
    bare = vad.trim(speech)
    assert bare.speech_found and bare.samples.size > 3 * 16000
    rng = np.random.default_rng(0)
    pad = (1e-4 * rng.standard_normal(16000)).astype(np.float32)  # 1 s of near-silence each side
    padded = vad.trim(np.concatenate([pad, speech, pad]))
    assert padded.speech_found
    assert abs(padded.start - (16000 + bare.start)) <= 800  # within 50 ms
    assert abs(padded.samples.size - bare.samples.size) <= 1600  # within 100 ms
    silent = vad.trim(np.zeros(16000, dtype=np.float32))
    assert not silent.speech_found and silent.samples.size == 16000  # kept as is, and said so
    with pytest.raises(ValueError, match="16000"):
        vad.trim(speech, 22050)


@pytest.fixture(scope="module")
def tiny_units(tmp_path_factory):
    root = tmp_path_factory.mktemp("hubert")
    return (write_hubert(root / "hubert-tiny", layers=3),
            write_kmeans(root / "hubert-tiny-layer-2.kmeans.6.model", clusters=6))


def test_units_from_the_real_formats(tiny_units, speech):
    model_dir, kmeans_path = tiny_units
    extractor = UnitExtractor(model_dir, kmeans_path, layer=2)
    assert extractor.vocab == 6
    frames = extractor.features(speech)
    assert frames.shape == (len(speech) // 320 - 1, 16)  # 50 frames per second
    units = extractor.units(speech)
    assert units.shape == (frames.shape[0],) and units.min() >= 0 and units.max() < 6
    assert np.array_equal(units, extractor.units(speech))  # deterministic
    assert len(set(units.tolist())) > 1
    with pytest.raises(ValueError, match="layer 9 does not exist"):
        UnitExtractor(model_dir, kmeans_path, layer=9)


def test_kmeans_of_another_width_is_refused(tiny_units, tmp_path):
    from sklearn.cluster import KMeans

    model_dir, _ = tiny_units
    wrong = KMeans(n_clusters=3, random_state=0, n_init=1).fit(np.random.default_rng(1).normal(size=(50, 8)))
    joblib.dump(wrong, tmp_path / "wrong.model")
    with pytest.raises(ValueError, match="expects 8-D frames"):
        UnitExtractor(model_dir, tmp_path / "wrong.model", layer=2)


def test_weighted_edit_distance_and_pairs(tiny_units, speech, samples):
    assert weighted_edit_distance([1, 2, 3], [1, 2, 3]) == 0
    assert weighted_edit_distance([1, 2, 3], [1, 3]) == 1
    assert weighted_edit_distance([1, 2], [2, 1]) == 2
    assert weighted_edit_distance([1, 2], [2, 1], weights=(1, 1, 3)) == 2  # two edits beat a costly swap
    assert mean_pairwise_distance([[1, 2], [1, 2], [2, 2]]) == pytest.approx((0 + 1 + 1) / 3)
    with pytest.raises(ValueError, match="at least 2"):
        mean_pairwise_distance([[1]])
    extractor = UnitExtractor(*tiny_units, layer=2)
    same = extractor.units(vad.trim(speech).samples)
    assert mean_pairwise_distance([same, same.copy()]) == 0.0  # identical generations
    other = extractor.units(vad.trim(audio.read_checked(samples / "en/librispeech_2412-153948-0000.flac")
                                     .samples[: 4 * 16000]).samples)
    assert mean_pairwise_distance([same, other]) > 0.0
