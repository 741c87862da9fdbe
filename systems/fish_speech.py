"""Fish Audio S2 Pro, open weights, served by your own ``fish-speech`` API server
(``python tools/api_server.py --llama-checkpoint-path checkpoints/s2-pro ...``).

Plain HTTP, as the server's own client does: ``POST {base_url}/v1/tts`` with a msgpack
``ServeTTSRequest`` (the prompt clip and its transcript as ``references``, ``format: wav``,
``seed``), WAV back. Unlike the cloud API, the local server takes a seed, so items are seeded.
The sampling settings are written out with the server's defaults so results record them. The
key is optional (only when the server was started with ``--api-key``)."""

from __future__ import annotations

from typing import Any

from systems.api.base import ApiSystem, Audio, capabilities, post_for_audio_file
from systems.base import SynthesisRequest, SystemUnavailable

# fish-speech ServeTTSRequest defaults for the fields that change the audio
SERVER_DEFAULTS = {"chunk_length": 200, "normalize": True, "max_new_tokens": 1024, "top_p": 0.8,
                   "repetition_penalty": 1.1, "temperature": 0.8, "use_memory_cache": "off"}


class FishSpeechServer(ApiSystem):
    name = "fish_speech"
    provider = "fish-speech server"
    default_key_env = "FISH_SPEECH_API_KEY"
    key_required = False

    def __init__(self, base_url: str = "http://127.0.0.1:8080", model: str = "s2-pro", **common: Any):
        try:
            import ormsgpack
            import requests
        except ImportError as exc:
            raise SystemUnavailable("fish_speech needs requests and ormsgpack: pip install -e '.[fish]'") from exc
        super().__init__(model=model, **common)
        unknown = set(self.settings) - set(SERVER_DEFAULTS)
        if unknown:
            raise SystemUnavailable(f"fish_speech: unknown settings {sorted(unknown)}; known: {sorted(SERVER_DEFAULTS)}")
        self.request_settings = {**SERVER_DEFAULTS, **self.settings}
        self.base_url = base_url.rstrip("/")
        self._http, self._requests, self._msgpack = requests.Session(), requests, ormsgpack
        if self._key:
            self._http.headers["Authorization"] = f"Bearer {self._key}"
        try:
            health = self._http.get(f"{self.base_url}/v1/health", timeout=10)
        except requests.RequestException as exc:
            raise SystemUnavailable(f"fish_speech: no fish-speech server answers at {self.base_url} ({exc}); start "
                                    "one with tools/api_server.py from github.com/fishaudio/fish-speech") from None
        if health.status_code != 200:
            raise SystemUnavailable(f"fish_speech: {self.base_url}/v1/health answered HTTP {health.status_code}")
        self.capabilities = capabilities(clones=True, rate=None, seedable=True, needs_prompt_text=True)

    def sdk_version(self) -> str | None:
        return f"requests=={self._requests.__version__}"

    def describe(self) -> dict[str, Any]:
        # `model` names what the server was started with; the server itself does not report it
        return {**super().describe(), "base_url": self.base_url, "format": "wav",
                "request_settings": self.request_settings}

    def voice_for(self, request: SynthesisRequest) -> str | None:
        return None  # references travel with each request

    def request_audio(self, request: SynthesisRequest, voice: str | None) -> Audio:
        references = []
        if request.prompt_wav is not None:
            references.append({"audio": request.prompt_wav.read_bytes(), "text": request.prompt_text or ""})
        body = {"text": request.text, "references": references, "reference_id": None, "format": "wav",
                "streaming": False, "seed": int(request.seed), **self.request_settings}
        return post_for_audio_file(self._http, f"{self.base_url}/v1/tts", self.timeout_s,
                                   data=self._msgpack.packb(body), headers={"Content-Type": "application/msgpack"})
