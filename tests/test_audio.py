import numpy as np
import pytest
import soundfile as sf

from ztts1_eval.core import atomic, audio


def test_reads_every_sample_format_as_mono(samples):
    for name in ("en/jfk_inaugural_1961.flac", "en/fleurs_en_000.ogg", "en/zonos2_default_AmericanFemale.mp3"):
        clip = audio.read_checked(samples / name)
        assert clip.samples.ndim == 1 and clip.samples.dtype == np.float32
    jfk = audio.read(samples / "en/jfk_inaugural_1961.flac")
    assert jfk.sample_rate == 44100 and abs(jfk.duration_s - 11.0) < 0.05


@pytest.mark.parametrize("content, reason", [
    (None, "missing audio file"),
    (b"", "empty audio file"),
    (b"RIFF\x00\x00garbage" * 10, "unreadable audio file"),
])
def test_bad_files_raise_with_reason(tmp_path, content, reason):
    path = tmp_path / "x.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(audio.BadAudio, match=reason):
        audio.read_checked(path)


def test_silent_nonfinite_and_short_audio_rejected(tmp_path):
    sf.write(tmp_path / "silent.wav", np.zeros(16000, np.float32), 16000)
    with pytest.raises(audio.BadAudio, match="silent"):
        audio.read_checked(tmp_path / "silent.wav")
    bad = np.full(16000, 0.1, np.float32)
    bad[100] = np.nan
    sf.write(tmp_path / "nan.wav", bad, 16000, subtype="FLOAT")
    with pytest.raises(audio.BadAudio, match="NaN"):
        audio.read_checked(tmp_path / "nan.wav")
    with pytest.raises(audio.BadAudio, match="too short"):
        audio.check(audio.Audio(np.full(100, 0.5, np.float32), 16000))


def test_resample_changes_rate_and_keeps_duration(samples):
    clip = audio.read(samples / "en/ljspeech_LJ001-0004.flac")
    out = audio.resample(clip, 16000)
    assert out.sample_rate == 16000
    assert abs(out.duration_s - clip.duration_s) < 1e-3
    assert np.max(np.abs(out.samples)) <= 1.0


def test_wav_is_lossless(tmp_path):
    ints = (np.arange(1000, dtype=np.int16) - 500) * 7
    audio.write_wav(tmp_path / "i.wav", ints, 22050)
    back, rate = sf.read(tmp_path / "i.wav", dtype="int16")
    assert rate == 22050 and np.array_equal(back, ints)
    floats = np.linspace(-0.9, 0.9, 999).astype(np.float32)
    audio.write_wav(tmp_path / "f.wav", floats, 24000)
    back, _ = sf.read(tmp_path / "f.wav", dtype="float32")
    assert np.array_equal(back, floats)
    # Same samples, same bytes: the file hash keys the score cache.
    assert audio.to_wav_bytes(floats, 24000) == (tmp_path / "f.wav").read_bytes()


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "x.json"
    atomic.write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("crash mid-write")
    assert atomic.read_json(target) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_tree_checksum_follows_file_content(tmp_path):
    from ztts1_eval.core.checksums import tree_sha256

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.bin").write_bytes(b"one")
    first = tree_sha256(tmp_path / "m")
    assert tree_sha256(tmp_path / "m") == first
    (tmp_path / "m" / "a.bin").write_bytes(b"two!")  # new size: the cached hash must not be reused
    assert tree_sha256(tmp_path / "m") != first
