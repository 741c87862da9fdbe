"""A tiny Allosaurus model directory in the release layout (uni2005's files and config fields),
with random weights: exercises the real readers, front end and decoder of allosaurus 1.0.2."""

import json
from pathlib import Path

import torch

PHONES = ("a", "b", "i", "k", "s")


def write(model_dir: Path, hidden: int = 8, layers: int = 2, seed: int = 0) -> Path:
    model_dir = Path(model_dir)
    (model_dir / "inventory").mkdir(parents=True, exist_ok=True)
    (model_dir / "phone.txt").write_text("".join(f"{p} {i + 1}\n" for i, p in enumerate(PHONES)), encoding="utf-8")
    (model_dir / "inventory/index.json").write_text(json.dumps([{
        "GlottoCode": "test1234", "LanguageName": "Test", "ISO6393": "tst", "SpecificDialect": "NA",
        "profile": "test1234.json", "phonelists": "test1234.txt"}]))
    (model_dir / "inventory/test1234.txt").write_text("a 1\ni 2\n", encoding="utf-8")
    # The preprocessing and phone-model configs of the uni2005 release.
    (model_dir / "pm_config.json").write_text(json.dumps({
        "model": "mfcc_hires", "sample_rate": 8000, "cep_size": 40, "bank_size": 40, "low_freq": 40,
        "high_freq": 3800, "window_size": 0.025, "window_shift": 0.01, "dither": 1.0, "dtype": "float32",
        "backend": "numpy", "use_energy": False, "cmvn": "speaker", "feature_window": 3}))
    (model_dir / "lm_config.json").write_text(json.dumps({"model": "phone_ipa", "backend": "numpy"}))
    (model_dir / "am_config.json").write_text(json.dumps({
        "model": "allosaurus", "feat_size": -1, "feat_size_dict": {"corpus": {"mfcc_hires": 120}}, "hidden_size": hidden,
        "layer_size": layers, "proj_size": 0, "phone_size": len(PHONES) + 1, "lang_size_dict": {}}))
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(120, hidden, num_layers=layers, bidirectional=True)
    linear = torch.nn.Linear(2 * hidden, len(PHONES) + 1)
    with torch.no_grad():
        linear.bias[0] = -1.0  # blank less likely, so that random weights emit phones
    state = {f"blstm_layer.{k}": v for k, v in lstm.state_dict().items()}
    state.update({f"phone_layer.{k}": v for k, v in linear.state_dict().items()})
    torch.save(state, model_dir / "model.pt")
    return model_dir
