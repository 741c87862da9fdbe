"""Quality (predicted MOS) with UTMOSv2 (Baba et al., 2024), an optional scorer beside MSR-UTMOS.

The official package runs in its own environment (``.venv-utmosv2``, ``make scorer-env``) as
:mod:`systems.workers.utmosv2`, because it pins numpy < 2, torch <= 2.9.1 and transformers < 5 and
imports torchaudio and torchvision. Defaults reproduce the package's quick prediction,
``utmosv2.create_model().predict(input_path=...)``: config ``fusion_stage3``, fold 0 (file
``fold0_s42_best_model.pth`` of the hub repo ``sarulab-speech/UTMOSv2``), one repetition,
data-domain id ``sarulab``, ``remove_silent_section=True`` passed on. The paper's setting averages
five folds and five repetitions: ``folds=[0,1,2,3,4] num_repetitions=5``.

Noticed in the package (1.3.1): ``predict`` restores its config's ``remove_silent_section`` before
the data loader reads it, so the flag changes nothing (checked here: the same scores with true and
false). It is passed on as the package takes it, not fixed on our side, and the identity says so.

Deliberate differences, both recorded in the identity: the random crops are seeded per item
(``seed``; the package leaves them unseeded, so two calls differ), and the backbones are built
without fetching their pretrained weights, which the strict checkpoint load replaces (see the
worker). Audio goes to the package at its own rate; the package reads it with librosa and
resamples it to 16 kHz itself (soxr HQ).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import soundfile as sf

from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers import hub, resampling
from ztts1_eval.scorers.base import Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable
from ztts1_eval.scorers.worker_client import WorkerClient, package_versions

WORKER_MODULE = "systems.workers.utmosv2"
DEFAULT_PYTHON = ".venv-utmosv2/bin/python"
DEFAULT_REPO = "sarulab-speech/UTMOSv2"
DEFAULT_SSL = "facebook/wav2vec2-base"  # fusion_stage3's cfg.model.ssl.name
DISTRIBUTIONS = ("hyperion-utmosv2", "utmosv2")  # the PyPI release, or upstream installed from GitHub
PACKAGES = (*DISTRIBUTIONS, "torch", "timm", "transformers", "librosa", "numpy")
INSTALL_HINT = ("build UTMOSv2's environment with `make scorer-env` (it installs hyperion-utmosv2==1.3.1 with its "
                "pinned torch 2.9.1), or set quality.python to an interpreter that has it")
SSL_FILES = ("config.json", "preprocessor_config.json")


class UTMOSv2(Scorer):
    type_name = "utmosv2"
    info = ScorerInfo(
        needs_text=False,
        needs_reference_audio=False,
        kind="utterance",
        sample_rate=16000,
        languages=None,
        metrics=(Metric("utmosv2", "UTMOSv2", higher_is_better=True, decimals=2, worst=1.0),),
        native_rates=resampling.PASS_THROUGH_RATES,  # the package resamples with librosa
    )

    def __init__(self, checkpoints: Sequence[str] | None = None, folds: Sequence[int] = (0,),
                 checkpoint_repo: str = DEFAULT_REPO, checkpoint_revision: str | None = None, split_seed: int = 42,
                 config: str = "fusion_stage3", ssl_model: str = DEFAULT_SSL, ssl_revision: str | None = None,
                 predict_dataset: str = "sarulab", num_repetitions: int = 1, remove_silent_section: bool = True,
                 seed: int = 0, python: str | None = None, device: str = "auto", batch_size: int = 8,
                 load_timeout_s: float = 1800.0, item_timeout_s: float = 600.0):
        from systems.worker_system import _resolve_python

        self.python = _resolve_python(python or DEFAULT_PYTHON)
        found = package_versions(self.python, PACKAGES, self.type_name, INSTALL_HINT)  # fail fast
        installed = [p for p in DISTRIBUTIONS if found.get(p)]
        if not installed:
            raise ScorerUnavailable(f"utmosv2: the UTMOSv2 package is not installed in {self.python!r}; {INSTALL_HINT}")
        self.packages = {p: found[p] for p in (installed[0], *PACKAGES[len(DISTRIBUTIONS):]) if found.get(p)}
        if checkpoints:
            self.checkpoints = [hub.file("utmosv2", str(c), checkpoint_repo, checkpoint_revision,
                                         option="quality.checkpoints") for c in checkpoints]
        else:
            if not folds:
                raise ValueError("utmosv2: folds is empty; name at least one fold (the package's default is 0)")
            self.checkpoints = [hub.file("utmosv2", f"fold{int(k)}_s{split_seed}_best_model.pth", checkpoint_repo,
                                         checkpoint_revision, option="quality.checkpoints") for k in folds]
        self.checkpoint_revision = checkpoint_revision
        config_path = Path(config).expanduser()
        if config.endswith(".py") and not config_path.is_file():
            raise ScorerUnavailable(f"utmosv2: config file {config} does not exist")
        self.config = str(config_path.absolute()) if config.endswith(".py") else config
        self.ssl_model, self.ssl_revision = ssl_model, ssl_revision
        self.ssl_dir = hub.snapshot("utmosv2", ssl_model, ssl_revision, option="quality.ssl_model")
        missing = [name for name in SSL_FILES if not (self.ssl_dir / name).is_file()]
        if missing:
            raise ScorerUnavailable(f"utmosv2: {self.ssl_dir} lacks {', '.join(missing)} (the SSL model's configs: "
                                    f"`huggingface-cli download {ssl_model} {' '.join(SSL_FILES)}`)")
        self.predict_dataset = predict_dataset
        self.num_repetitions = int(num_repetitions)
        self.remove_silent_section = bool(remove_silent_section)
        self.seed = int(seed)
        self.device = device
        self.batch_size = batch_size
        self.load_timeout_s, self.item_timeout_s = load_timeout_s, item_timeout_s
        self._client: WorkerClient | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    def identity(self) -> dict[str, Any]:
        names = ", ".join(p.name for p in self.checkpoints)
        return {
            "type": self.type_name,
            "model": f"UTMOSv2 {Path(self.config).stem} {names}",
            "revision": self.checkpoint_revision,
            "checkpoints_sha256": {p.name: tree_sha256(p) for p in self.checkpoints},
            "config": self.config if not self.config.endswith(".py") else {"file": Path(self.config).name,
                                                                            "sha256": tree_sha256(Path(self.config))},
            "ssl_model": self.ssl_model,
            "ssl_revision": self.ssl_revision,
            "ssl_config_sha256": {name: tree_sha256(self.ssl_dir / name) for name in SSL_FILES},
            "package": ", ".join(f"{k}=={v}" for k, v in self.packages.items()),
            "predict_dataset": self.predict_dataset,
            "num_repetitions": self.num_repetitions,
            "folds_averaged": len(self.checkpoints),
            "remove_silent_section": f"{self.remove_silent_section} (passed to predict(); no effect in utmosv2 1.3.1)",
            "seed": self.seed,
            "reproduces": "utmosv2 UTMOSv2Model.predict(input_path=...)",
            "settings_note": (f"{len(self.checkpoints)} fold(s) x {self.num_repetitions} repetition(s), "
                              f"domain {self.predict_dataset}, crops seeded ({self.seed})"),
            "device": hub.resolve_device(self.device).split(":")[0],
            "resampling": "librosa (soxr HQ) to 16 kHz inside the package",
        }

    def load(self) -> None:
        if self._client is not None:
            return
        settings = {"model": f"UTMOSv2 {self.config}", "checkpoints": [str(p) for p in self.checkpoints],
                    "config": self.config, "ssl_dir": str(self.ssl_dir), "predict_dataset": self.predict_dataset,
                    "num_repetitions": self.num_repetitions, "remove_silent_section": self.remove_silent_section,
                    "seed": self.seed, "device": self.device}
        self._client = WorkerClient(self.python, WORKER_MODULE, settings, self.type_name, INSTALL_HINT,
                                    self.load_timeout_s, self.item_timeout_s)
        self._client.start()
        self._tmp = tempfile.TemporaryDirectory(prefix="ztts1-utmosv2-")

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        outputs = []
        for item in batch:
            path = Path(self._tmp.name) / "item.wav"
            sf.write(path, np.asarray(item.audio.samples, dtype=np.float32), item.audio.sample_rate, subtype="FLOAT")
            try:
                result = self._client.ask({"audio": str(path)})["results"][0]
            except RuntimeError as exc:  # the package refused this clip, or its worker died: this item fails
                outputs.append(ScoreOutput(status="failed", reason=str(exc)[-500:]))
                continue
            finally:
                path.unlink(missing_ok=True)
            outputs.append(ScoreOutput(values={"utmosv2": result["mos"]}))
        return outputs

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
