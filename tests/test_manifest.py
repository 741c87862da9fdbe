import json
from pathlib import Path

import pytest

from ztts1_eval.pipeline import manifest
from ztts1_eval.pipeline.manifest import Item, ManifestError


def _write_lines(path: Path, records: list[dict], header: bool = True) -> Path:
    lines = [json.dumps({"kind": "ztts1-eval-manifest", "schema_version": 1})] if header else []
    lines += [json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n")
    return path


def _item(**kw) -> dict:
    base = {"id": "a", "subset": "s", "language": "en", "prompt_wav": "p.wav", "target_text": "hello"}
    return {**base, **kw}


def test_roundtrip(tmp_path):
    (tmp_path / "p.wav").write_bytes(b"x")
    items = [Item(**_item(id="b", meta={"k": 1})), Item(**_item(id="a", gt_wav="p.wav", speaker="s1"))]
    manifest.write(tmp_path / "m.jsonl", items)
    loaded = manifest.load(tmp_path / "m.jsonl", tmp_path)
    assert loaded.items == items
    assert loaded.resolve("p.wav") == (tmp_path / "p.wav").resolve()


def test_every_problem_is_listed_in_one_error(tmp_path):
    (tmp_path / "ok.wav").write_bytes(b"x")
    path = _write_lines(tmp_path / "m.jsonl", [
        _item(id="a", prompt_wav="missing1.wav"),
        _item(id="b", prompt_wav="ok.wav", gt_wav="missing2.wav"),
        _item(id="a", prompt_wav="ok.wav"),  # duplicate
        _item(id="c", prompt_wav="../escape.wav"),
        _item(id="d", prompt_wav="ok.wav", language="xx"),
        _item(id="e", prompt_wav="ok.wav", target_text=""),
        _item(id="f", prompt_wav="ok.wav", colour="red"),
        _item(id="g/h", prompt_wav="ok.wav"),
        _item(id=5, prompt_wav="ok.wav", language=["en"]),
        _item(id="i", prompt_wav="ok.wav", meta="not-a-dict"),
    ])
    with pytest.raises(ManifestError) as err:
        manifest.load(path, tmp_path)
    text = str(err.value)
    assert "10 problem(s)" in text
    for needle in ("missing1.wav", "missing2.wav", "duplicate id", "escapes the data root",
                   "unknown language code 'xx'", "missing required field(s) ['target_text']",
                   "unknown field(s) ['colour']", "id must match", "wrong type (strings expected): ['id', 'language']",
                   "meta (must be an object)"):
        assert needle in text, needle


def test_absolute_path_outside_root_rejected(tmp_path):
    outside = tmp_path / "outside.wav"
    outside.write_bytes(b"x")
    root = tmp_path / "root"
    root.mkdir()
    path = _write_lines(tmp_path / "m.jsonl", [_item(prompt_wav=str(outside))])
    with pytest.raises(ManifestError, match="escapes the data root"):
        manifest.load(path, root)


def test_header_and_version_checked(tmp_path):
    (tmp_path / "p.wav").write_bytes(b"x")
    with pytest.raises(ManifestError, match="missing header"):
        manifest.load(_write_lines(tmp_path / "a.jsonl", [_item()], header=False), tmp_path)
    bad = tmp_path / "b.jsonl"
    bad.write_text(json.dumps({"kind": "ztts1-eval-manifest", "schema_version": 99}) + "\n{not json\n")
    with pytest.raises(ManifestError) as err:
        manifest.load(bad, tmp_path)
    assert "schema_version 99" in str(err.value) and "not JSON" in str(err.value)


def test_shards_partition_items_stably():
    items = [Item(**_item(id=f"i{n:02d}")) for n in range(10)]
    shards = [manifest.select_shard(list(reversed(items)), i, 3) for i in range(3)]
    ids = sorted(item.id for shard in shards for item in shard)
    assert ids == [item.id for item in items]
    assert all(len(shard) for shard in shards)
    # An item's shard depends on its id alone: adding items moves no existing item.
    more = items + [Item(**_item(id=f"j{n:02d}")) for n in range(20)]
    for i in range(3):
        assert {it.id for it in manifest.select_shard(more, i, 3)} >= {it.id for it in shards[i]}
    assert [manifest.shard_of(it.id, 3) for it in items] == [manifest.shard_of(it.id, 3) for it in items]
    with pytest.raises(ValueError):
        manifest.select_shard(items, 3, 3)


def test_blank_long_and_huge_inputs_are_rejected_with_the_item(tmp_path):
    (tmp_path / "ok.wav").write_bytes(b"x")
    path = _write_lines(tmp_path / "m.jsonl", [
        _item(id="blank", prompt_wav="ok.wav", target_text=" \t\u3000\n"),
        _item(id="long", prompt_wav="ok.wav", target_text="word " * 500),
        _item(id="long-prompt", prompt_wav="ok.wav", prompt_text="x" * 2001),
        _item(id="fine", prompt_wav="ok.wav", target_text="x" * 2000),
        _item(id="huge", prompt_wav="ok.wav", meta={"pad": "y" * (manifest.MAX_LINE_BYTES + 10)}),
    ])
    with pytest.raises(ManifestError) as err:
        manifest.load(path, tmp_path)
    text = str(err.value)
    assert "4 problem(s)" in text
    assert "id='blank'): missing required field(s) ['target_text']" in text
    assert "id='long'): target_text has 2500 characters, over max_text_chars=2000" in text
    assert "id='long-prompt'): prompt_text has 2001 characters" in text
    assert f"line 6: longer than {manifest.MAX_LINE_BYTES} characters" in text
    assert "'fine'" not in text
    loose = _write_lines(tmp_path / "n.jsonl", [_item(id="long", prompt_wav="ok.wav", target_text="word " * 500)])
    assert manifest.load(loose, tmp_path, max_text_chars=5000).items[0].id == "long"


def test_a_symlink_that_leaves_the_data_root_is_refused_unless_allowed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.wav").write_bytes(b"x")
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "up").symlink_to(outside, target_is_directory=True)  # a directory link out
    (root / "linked.wav").symlink_to(outside / "secret.wav")  # a file link out
    path = _write_lines(tmp_path / "m.jsonl", [_item(id="a", prompt_wav="sub/up/secret.wav"),
                                               _item(id="b", prompt_wav="linked.wav")])
    with pytest.raises(ManifestError) as err:
        manifest.load(path, root)
    assert str(err.value).count("leaves the data root") == 2 and "follow_symlinks=true" in str(err.value)
    assert [i.id for i in manifest.load(path, root, follow_symlinks=True).items] == ["a", "b"]
