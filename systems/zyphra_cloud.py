"""Zyphra Cloud TTS over plain HTTP (``POST {base_url}/audio/text-to-speech``, header
``X-API-Key``): the prompt clip goes with every request (``speaker_audio``, base64), audio comes
back as WAV (``mime_type: audio/wav``: lossless). Plain HTTP because the ``zyphra`` SDK (0.1.6)
only accepts the v0.1 model names; here ``model`` is free. The server takes its own language
codes; other languages are recorded as unsupported."""

from __future__ import annotations

import base64
from typing import Any

from systems.api.base import ApiSystem, Audio, capabilities, post_for_audio_file
from systems.base import SynthesisRequest, SystemUnavailable

# benchmark language -> Zyphra language_iso_code (the codes its API documents)
LANGUAGES = {"en": "en-us", "fr": "fr-fr", "de": "de", "ja": "ja", "ko": "ko", "zh": "cmn"}


class ZyphraCloud(ApiSystem):
    name = "zyphra"
    provider = "Zyphra Cloud"
    default_key_env = "ZYPHRA_API_KEY"

    def __init__(self, base_url: str = "https://api.zyphra.com/v1", model: str = "zonos-v0.1-transformer",
                 send_seed: bool = False, **common: Any):
        try:
            import requests
        except ImportError as exc:
            raise SystemUnavailable("zyphra needs requests: pip install -e '.[api]'") from exc
        super().__init__(model=model, **common)
        self.base_url, self.send_seed = base_url.rstrip("/"), bool(send_seed)
        self._http, self._requests = requests.Session(), requests
        self.capabilities = capabilities(clones=True, rate=None, languages=LANGUAGES, seedable=self.send_seed)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "base_url": self.base_url, "send_seed": self.send_seed,
                "mime_type": "audio/wav", "languages": LANGUAGES}

    def sdk_version(self) -> str | None:
        return f"requests=={self._requests.__version__}"

    def request_audio(self, request: SynthesisRequest, voice: str | None) -> Audio:
        body: dict[str, Any] = {"text": request.text, "model": self.model, "mime_type": "audio/wav",
                                "language_iso_code": LANGUAGES[request.language], **self.settings}
        if request.prompt_wav is not None:
            body["speaker_audio"] = base64.b64encode(request.prompt_wav.read_bytes()).decode("ascii")
        if self.send_seed:
            body["seed"] = request.seed
        return post_for_audio_file(self._http, f"{self.base_url}/audio/text-to-speech", self.timeout_s, json=body,
                                   headers={"X-API-Key": self._key})

    def voice_for(self, request: SynthesisRequest) -> str | None:
        return None  # the prompt travels with each request; nothing to create or delete
