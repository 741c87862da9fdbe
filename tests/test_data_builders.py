"""`ztts1-eval data`: each manifest built from a small copy of its source in the exact published
layout, with real speech; selection, pairing, balance, checksums, resume and every input error."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from conftest import REPO, make_config
from data_fixtures import write_cv3_leaf, write_fleurs_r, write_minimax, write_seed_tts, write_voxblink2
from ztts1_eval.pipeline import manifest, runner
from ztts1_eval.report import tables
from ztts1_eval.core.checksums import file_sha256
from ztts1_eval.data import cli as data_cli
from ztts1_eval.data.common import DataError
from ztts1_eval.data.verify import verify


def _clean(tmp_path, source, *extra):
    return data_cli.build("ztts1_clean", [f"data_root={tmp_path / 'data'}", f"source={source}",
                                          "locales={en_us: en, de_de: de}", "per_language=3", *extra], None, False)


@pytest.fixture(scope="module")
def fleurs(tmp_path_factory):
    return write_fleurs_r(tmp_path_factory.mktemp("fleurs-r"), {"en_us": 8, "de_de": 6})


def test_clean_manifest_from_a_fleurs_r_copy(fleurs, tmp_path):
    path, header = _clean(tmp_path, fleurs)
    assert path == tmp_path / "data/ztts1_clean.jsonl"
    loaded = manifest.load(path, tmp_path / "data")
    items = loaded.items
    assert header["counts"] == {"clean": {"de": 3, "en": 3}} and header["n_items"] == 6
    assert header["source"]["revision"] == "local copy" and header["protocol"]["per_language"] == 3
    for item in items:
        assert item.prompt_wav == item.gt_wav  # the Clean convention: the target clip is its own prompt
        assert item.prompt_text == item.target_text and item.target_text.startswith("Sentence ")
        assert item.subset == "clean" and item.meta["locale"] in ("en_us", "de_de")
        assert header["audio_sha256"][item.gt_wav] == file_sha256(loaded.resolve(item.gt_wav))
    en = [item for item in items if item.language == "en"]
    assert len({item.meta["sentence_id"] for item in en}) == 3  # one reading per sentence
    # Only the chosen clips are extracted.
    assert len(list((tmp_path / "data/fleurs-r/en_us/test").glob("*.wav"))) == 3


def test_clean_selection_is_seeded_and_rebuilds_resume(fleurs, tmp_path):
    _, first = _clean(tmp_path, fleurs)
    extracted = {p: p.stat().st_mtime_ns for p in (tmp_path / "data/fleurs-r").rglob("*.wav")}
    _, again = _clean(tmp_path, fleurs)
    assert again["audio_sha256"] == first["audio_sha256"]
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "data/fleurs-r").rglob("*.wav")} == extracted  # nothing redone
    _, other = _clean(tmp_path / "other", fleurs, "seed=5")
    assert set(other["audio_sha256"]) != set(first["audio_sha256"])
    _, paired = _clean(tmp_path / "paired", fleurs, "pairing=other_same_gender")
    items = manifest.load(tmp_path / "paired/data/ztts1_clean.jsonl", tmp_path / "paired/data").items
    assert all(item.prompt_wav != item.gt_wav for item in items)


def test_hard_subsets_from_cv3_texts_with_fleurs_prompts(fleurs, tmp_path):
    cv3 = tmp_path / "CV3-Eval"
    write_cv3_leaf(cv3, "hard_en", 4)
    with pytest.raises(DataError, match=r"hard.leaves use locales \[.cmn_hans_cn.\] that are not in locales"):
        _clean(tmp_path, fleurs, f"hard.cv3_root={cv3}")
    path, header = _clean(tmp_path, fleurs, f"hard.cv3_root={cv3}", "hard.leaves={hard_en: en_us}")
    assert header["counts"]["hard_en"] == {"en": 4} and "hard_zh" not in header["counts"]
    hard = [item for item in manifest.load(path, tmp_path / "data").items if item.subset == "hard_en"]
    assert {item.id for item in hard} == {f"hard_en-uttid_{i}" for i in range(1, 5)}
    assert all(item.gt_wav is None and item.prompt_wav.startswith("fleurs-r/en_us/test/") for item in hard)
    assert hard[0].target_text == "Hard text number 1 for hard_en."


def test_clean_input_errors(fleurs, tmp_path):
    broken = write_fleurs_r(tmp_path / "broken", {"en_us": 6})
    tsv = broken / "data/en_us/test.tsv"
    lines = tsv.read_text().splitlines()
    tsv.write_text("\n".join(lines[:2] + ["123\tonly-three\tcolumns"] + lines[3:]) + "\n")
    with pytest.raises(DataError, match=r"test.tsv:3: expected 7 tab-separated columns"):
        data_cli.build("ztts1_clean", [f"data_root={tmp_path / 'd'}", f"source={broken}", "locales={en_us: en}",
                                       "per_language=2"], None, False)
    with pytest.raises(DataError, match=r"data/xx_yy/test.tsv not found"):
        data_cli.build("ztts1_clean", [f"data_root={tmp_path / 'd'}", f"source={fleurs}", "locales={xx_yy: en}",
                                       "per_language=2"], None, False)
    with pytest.raises(DataError, match="unknown language code 'xx'"):
        data_cli.build("ztts1_clean", [f"data_root={tmp_path / 'd'}", f"source={fleurs}", "locales={en_us: xx}",
                                       "per_language=2"], None, False)
    assert not (tmp_path / "d/ztts1_clean.jsonl").exists()  # nothing half-written
    with pytest.raises(DataError, match="asked for 5 utterances of distinct sentences but the source has 3"):
        data_cli.build("ztts1_clean", [f"data_root={tmp_path / 'd'}", f"source={fleurs}", "locales={de_de: de}",
                                       "per_language=5"], None, False)
    short = write_fleurs_r(tmp_path / "short", {"en_us": 4})
    import tarfile

    archive = short / "data/en_us/audio/test.tar.gz"
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(archive, "w:gz") as tar:
        import io

        for member, data in members[:1]:
            tar.addfile(member, io.BytesIO(data))
    with pytest.raises(DataError, match=r"test.tar.gz lacks 1 file"):
        data_cli.build("ztts1_clean", [f"data_root={tmp_path / 's'}", f"source={short}", "locales={en_us: en}",
                                       "per_language=2", "unique_sentences=false", "seed=3"], None, False)
    with pytest.raises(DataError, match="set data_root="):
        data_cli.build("ztts1_clean", [], None, False)


def test_verify_reports_missing_and_changed_audio(fleurs, tmp_path):
    path, header = _clean(tmp_path, fleurs)
    assert verify(path, tmp_path / "data", progress=False).ok
    first, second = sorted(header["audio_sha256"])[:2]
    (tmp_path / "data" / first).unlink()
    (tmp_path / "data" / second).write_bytes(b"RIFF-not-what-was-built")
    third, fourth = sorted(header["audio_sha256"])[2:4]  # decodable but wrong: warned about
    clip, rate = sf.read(tmp_path / "data" / third)
    sf.write(tmp_path / "data" / third, np.clip(clip * 50.0, -1, 1), rate, subtype="PCM_U8")
    sf.write(tmp_path / "data" / fourth, np.full(rate, 1e-3, dtype=np.float32) * np.sin(np.arange(rate)), rate)
    out = subprocess.run([sys.executable, "-m", "ztts1_eval", "data", "verify", str(path), "--speech"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "3 changed" in out.stdout and f"missing: {first}" in out.stdout and f"changed: {second}" in out.stdout
    assert f"flagged: {third}: clipped " in out.stdout and "8-bit (PCM_U8)" in out.stdout
    assert f"no speech: {fourth}" in out.stdout and "without speech (scored with the flag" in out.stdout


def _itw(tmp_path, sources, *extra):
    return data_cli.build("ztts1_itw", [f"data_root={tmp_path}", *(f"{k}={v}" for k, v in sources.items()),
                                        "counts={en: 4, de: 4}", "bins=4", *extra], None, False)


def test_in_the_wild_pairs_and_utmos_bins(tmp_path):
    sources = write_voxblink2(tmp_path)
    path, header = _itw(tmp_path, sources)
    items = manifest.load(path, tmp_path).items
    assert header["counts"] == {"itw": {"de": 4, "en": 4}}
    assert header["protocol"]["per_bin"] == {"de": [1, 1, 1, 1], "en": [1, 1, 1, 1]}  # one per UTMOS bin
    scores = dict(line.split("\t") for line in sources["utmos"].read_text().splitlines())
    for item in items:
        target, prompt = item.meta["target_clip"], item.meta["prompt_clip"]
        assert target.split("/")[0] == prompt.split("/")[0] == item.speaker  # same speaker ...
        assert target.split("/")[1] != prompt.split("/")[1]  # ... from another video
        assert item.gt_wav == f"audio/{target}.wav" and item.prompt_wav == f"audio/{prompt}.wav"
        assert item.target_text.startswith(f"Words of {item.speaker}") and item.meta["target_seconds"] == 1.8
        assert item.meta["utmos"] == float(scores[target])
    bins = sorted(min(int((item.meta["utmos"] - 1.0) / 0.75), 3) for item in items if item.language == "en")
    assert bins == [0, 1, 2, 3]
    assert len({item.speaker for item in items}) == 8  # at most one item per speaker
    _, again = _itw(tmp_path, sources)
    assert again["audio_sha256"] == header["audio_sha256"]


def test_in_the_wild_errors_and_notes(tmp_path):
    sources = write_voxblink2(tmp_path)
    with pytest.raises(DataError, match=r"in-the-wild en: 5 items asked, only 4 eligible"):
        _itw(tmp_path, sources, "counts={en: 5}")
    missing = next(sources["audio"].rglob("*.wav"))
    missing.unlink()
    _, header = _itw(tmp_path, sources, "counts={en: 3}")
    assert header["notes"][0].startswith("1 annotated clip(s) have no audio")
    meta = sorted(sources["annotations"].rglob("*.txt"))[-1]  # a clip whose audio is there
    meta.write_text(meta.read_text().replace("100\t10", "frame?\t10"))
    with pytest.raises(DataError, match=r"\.txt:8: expected a frame row"):
        _itw(tmp_path, sources)
    bad = tmp_path / "bad_utmos.tsv"
    bad.write_text("id000000/VID0x0abc/00000\tgood\n")
    with pytest.raises(DataError, match=r"bad_utmos.tsv:1: UTMOS 'good' is not a number"):
        _itw(tmp_path, {**sources, "utmos": bad})
    with pytest.raises(DataError, match="set annotations=..."):
        data_cli.build("ztts1_itw", [f"data_root={tmp_path}"], None, False)


def test_seed_tts_import_and_errors(tmp_path):
    lst = write_seed_tts(tmp_path / "seedtts_testset")
    path, header = data_cli.build("seedtts", [f"list={lst}", "language=en"], None, False)
    items = {item.id: item for item in manifest.load(path, lst.parent).items}
    assert set(items) == {"seedtts_meta-u1", "seedtts_meta-u2"}
    assert items["seedtts_meta-u1"].gt_wav is None and items["seedtts_meta-u2"].gt_wav == "wavs/u2.wav"
    assert items["seedtts_meta-u1"].prompt_wav == "prompt-wavs/p1.wav" and items["seedtts_meta-u1"].prompt_text == "Prompt one."
    lst.write_text(lst.read_text() + "u3|Only three|fields\n")
    with pytest.raises(DataError, match=r"meta.lst:3: a 3-field line has no prompt audio"):
        data_cli.build("seedtts", [f"list={lst}", "language=en"], None, False)
    lst.write_text("u4|Prompt.|prompt-wavs/nope.wav|Target.\n")
    with pytest.raises(DataError, match=r"meta.lst:1: prompt audio not found"):
        data_cli.build("seedtts", [f"list={lst}", "language=en"], None, False)


def test_cv3_import_joins_on_utterance_id(tmp_path):
    leaf = write_cv3_leaf(tmp_path / "CV3-Eval", "zh", 3)
    path, header = data_cli.build("cv3", [f"leaves=[{leaf}]"], None, False)
    items = manifest.load(path, tmp_path / "CV3-Eval").items
    assert [item.id for item in items] == ["zh-uttid_1", "zh-uttid_2", "zh-uttid_3"]
    assert items[0].language == "zh" and items[0].prompt_wav == "data/zero_shot/zh/waveform/prompt_audio_1.wav"
    assert items[1].prompt_text == "Prompt words 2." and items[1].target_text == "Hard text number 2 for zh."
    (leaf / "prompt_text").write_text("uttid_1 Prompt words 1.\nuttid_1 again\n")
    with pytest.raises(DataError, match=r"prompt_text:2: utterance uttid_1 already on line 1"):
        data_cli.build("cv3", [f"leaves=[{leaf}]"], None, False)
    (leaf / "prompt_text").write_text("uttid_1 Prompt words 1.\n")
    with pytest.raises(DataError, match=r"prompt_text: no entry for utterance\(s\) \['uttid_2', 'uttid_3'\]"):
        data_cli.build("cv3", [f"leaves=[{leaf}]"], None, False)


def test_cv3_cross_lingual_and_emotion_leaves(tmp_path):
    """The leaves behind Table VII's other rows: cross-lingual targets and emotion leaves
    (language from the parent folder, the emotion label kept in item meta, ids that stay apart)."""
    checkout = tmp_path / "CV3-Eval"
    to_ja = write_cv3_leaf(checkout, "to_ja", 1, group="cross_lingual_zeroshot")
    angry_en = write_cv3_leaf(checkout, "en/angry", 2, group="emotion_zeroshot")
    angry_zh = write_cv3_leaf(checkout, "zh/angry", 1, group="emotion_zeroshot")
    # the language folder's list names each utterance's intensity, as CV3-Eval's does
    (angry_en.parent / "prompt_wav.scp").write_text(
        "angry_high_uttid_1 data/emotion_zeroshot/en/angry/waveform/prompt_audio_1.wav\n"
        "angry_low_uttid_2 data/emotion_zeroshot/en/angry/waveform/prompt_audio_2.wav\n")
    path, header = data_cli.build("cv3", [f"leaves=[{to_ja},{angry_en},{angry_zh}]"], None, False)
    items = {item.id: item for item in manifest.load(path, checkout).items}
    assert set(items) == {"to_ja-uttid_1", "emotion_en_angry-uttid_1", "emotion_en_angry-uttid_2",
                          "emotion_zh_angry-uttid_1"}
    assert items["to_ja-uttid_1"].language == "ja" and items["to_ja-uttid_1"].subset == "to_ja"
    from ztts1_eval.report.profile import table_column  # Table VII's cross-lingual columns, apart from ja

    assert table_column("to_ja", "ja") == "to_ja" and table_column("emotion", "zh") == "zh"
    angry = items["emotion_zh_angry-uttid_1"]
    assert (angry.language, angry.subset, angry.meta["emotion"]) == ("zh", "emotion", "angry")
    assert "intensity" not in angry.meta  # no language-level list for zh here
    assert [items[f"emotion_en_angry-uttid_{i}"].meta["intensity"] for i in (1, 2)] == ["high", "low"]
    assert angry.prompt_wav == "data/emotion_zeroshot/zh/angry/waveform/prompt_audio_1.wav"


def test_minimax_import(tmp_path):
    root = write_minimax(tmp_path / "minimax")
    path, header = data_cli.build("minimax", [f"root={root}"], None, False)
    assert header["counts"] == {"minimax": {"de": 2, "en": 4}}
    items = manifest.load(path, root).items
    english = [item for item in items if item.language == "en"]
    assert english[0].speaker == "english_female" and english[0].prompt_wav.endswith(".mp3")
    assert english[0].prompt_text == "Prompt text of english_female."
    (root / "text/english.txt").write_text("no separator here\n")
    with pytest.raises(DataError, match=r"english.txt:1: expected '<speaker>\|<text>'"):
        data_cli.build("minimax", [f"root={root}"], None, False)
    with pytest.raises(DataError, match="unknown language 'klingon'"):
        data_cli.build("minimax", [f"root={root}", "languages=[klingon]"], None, False)


def test_ztts1_benchmarks_read_the_built_manifest_and_default_to_the_paper_stack(fleurs, tmp_path, shared_cache):
    data = tmp_path / "data"
    _clean(tmp_path, fleurs)
    config = make_config(["benchmark=ztts1_clean", f"benchmark.data_root={data}"])
    assert config["scorers"]["name"] == "paper" and config["benchmark"]["manifest"] == f"{data}/ztts1_clean.jsonl"
    lite = make_config(["benchmark=ztts1_clean", f"benchmark.data_root={data}", "scorers=lite", "~scorers.run.wer",
                        "~scorers.run.quality", "system=ground_truth", f"results_dir={tmp_path / 'r'}",
                        f"cache_dir={shared_cache}", "progress=false"])
    summary = runner.run(lite)
    frame = pd.read_parquet(summary.run_dir / "items.parquet")
    assert len(frame) == 6 and (frame["status"] == "ok").all()
    assert summary.results.overall.cells["prosody.prosody"].mean == 100.0
    # Clean pairs each target with itself as the prompt: the ground truth's similarity is "–"
    # (Table III), not 100 for a clip against itself.
    assert (frame["prompt_wav"] == frame["gt_wav"]).all()
    assert (frame["sim_status"] == "n/a").all() and set(frame["sim_reason"]) == {tables.PROMPT_IS_TARGET}
    sim_line = next(line for line in (summary.run_dir / "table.md").read_text().splitlines() if "Spk. sim." in line)
    assert "| – |" in sim_line and "100.0" not in sim_line
    missing = make_config(["benchmark=ztts1_itw", f"benchmark.data_root={tmp_path / 'nowhere'}", "scorers=lite"])
    with pytest.raises(manifest.ManifestError, match="ztts1-eval data build ztts1_itw"):
        runner.run(missing)
    assert json.loads(json.dumps(config["benchmark"]))["name"] == "ztts1_clean"


def test_hub_source_offline_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    out = subprocess.run([sys.executable, "-m", "ztts1_eval", "data", "build", "ztts1_clean", f"data_root={tmp_path}",
                          "locales={en_us: en}", "revision=abc123"], cwd=REPO, capture_output=True, text=True,
                         timeout=120, env={**__import__("os").environ})
    assert out.returncode == 1
    assert "cannot get data/en_us/test.tsv of dataset google/fleurs-r (revision abc123)" in out.stderr
    assert "huggingface-cli download google/fleurs-r --repo-type dataset" in out.stderr and "source=DIR" in out.stderr
