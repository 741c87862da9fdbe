"""How many per-item WERs the default normalizer change moved: the demo set with the lite stack
(PocketSphinx, English), every default system, each hypothesis scored with the old default
(``unicode_punct``, formerly ``seedtts`` v2) and the new one (``seedtts_eval``, Seed-TTS-Eval's
rules), side by side on the same transcripts.

    .venv/bin/python benchmarks/bench_normalizers.py [--systems flite piper] [--out file.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from ztts1_eval.pipeline import runner
from ztts1_eval.text import normalize
from ztts1_eval.text.wer import score_transcript  # noqa: E402

OLD, NEW = "unicode_punct", "seedtts_eval"


def _config(system: str, results_dir: Path) -> dict:
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "conf")):
        cfg = compose(config_name="config", overrides=[
            f"system={system}", f"results_dir={results_dir}", "progress=false", "~scorers.run.sim",
            "~scorers.run.quality", "~scorers.run.prosody"])
    return OmegaConf.to_container(cfg, resolve=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", nargs="+", default=["ground_truth", "flite", "espeak", "piper"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "bench_normalizers.json")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ztts1-bench-norm-") as tmp:
        for system in args.systems:
            summary = runner.run(_config(system, Path(tmp)))
            items = pd.read_parquet(summary.run_dir / "items.parquet")
            for item in items[items["wer_status"] == "ok"].to_dict("records"):
                hypothesis = item["wer.asr_hypothesis"]
                old, _ = score_transcript(item["target_text"], hypothesis, item["language"], normalize.get(OLD))
                new, _ = score_transcript(item["target_text"], hypothesis, item["language"], normalize.get(NEW))
                rows.append({"system": system, "id": item["id"], "old": old.get("wer"), "new": new.get("wer")})
    frame = pd.DataFrame(rows)
    changed = frame[(frame["old"] - frame["new"]).abs() > 1e-12]
    report = {
        "benchmark": "demo (lite stack: PocketSphinx, English items)", "old": OLD, "new": NEW,
        "items": int(len(frame)), "changed": int(len(changed)),
        "per_system": {s: {"items": int((frame["system"] == s).sum()), "changed": int((changed["system"] == s).sum()),
                           "mean_wer_old": float(frame.loc[frame["system"] == s, "old"].mean()),
                           "mean_wer_new": float(frame.loc[frame["system"] == s, "new"].mean())}
                       for s in args.systems},
        "changed_items": changed.to_dict(orient="records"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "changed_items"}, indent=2))


if __name__ == "__main__":
    main()
