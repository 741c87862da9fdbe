"""python -m zonos2 synthesize --text ... [--speaker ref.wav|emb.npy] --out out.wav
python -m zonos2 serve --checkpoint DIR [--port 8000 --slots 8]: the OpenAI-compatible speech server"""

from __future__ import annotations

import argparse
import sys

import soundfile as sf

from zonos2.api import Conditioning, Zonos2TTS
from zonos2.checkpoint import HUB_ID
from zonos2.sampler import SamplingParams
from zonos2.vocoder import DAC_HUB_ID


def main(argv: list[str] | None = None) -> int:
    model = argparse.ArgumentParser(add_help=False)  # what both commands load
    model.add_argument("--checkpoint", default=HUB_ID, help="hub id or local directory")
    model.add_argument("--revision")
    model.add_argument("--vocoder", default=DAC_HUB_ID)
    model.add_argument("--speaker-encoder", help="local snapshot of the speaker encoder (for cloning from audio)")
    model.add_argument("--trust-speaker-encoder-code", action="store_true",
                       help="allow the speaker encoder's model code (inside its snapshot) to run")
    model.add_argument("--device", default="auto")
    model.add_argument("--dtype")
    model.add_argument("--cpu-kernels", default="auto", choices=["auto", "onednn", "torch"],
                       help="bf16 on a CPU: oneDNN-packed weights (same bits, faster) or PyTorch's")
    model.add_argument("--load-format", default="auto", choices=["auto", "dummy"],
                       help="dummy: random weights of the checkpoint's config (the release's by default) and a "
                            "random full-size DAC, nothing downloaded: speed runs only (vLLM's and SGLang's option)")
    parser = argparse.ArgumentParser(prog="python -m zonos2")
    sub = parser.add_subparsers(dest="command", required=True)
    syn = sub.add_parser("synthesize", parents=[model], help="text -> 44.1 kHz WAV")
    syn.add_argument("--text", required=True)
    syn.add_argument("--out", required=True)
    syn.add_argument("--speaker", help="reference audio (needs --speaker-encoder) or saved .npy/.npz embedding")
    syn.add_argument("--seed", type=int)
    syn.add_argument("--max-frames", type=int, default=2048)
    syn.add_argument("--ignore-eos", action="store_true", help="always generate --max-frames frames (benchmarks)")
    syn.add_argument("--language", default="en")
    syn.add_argument("--normalize-text", action=argparse.BooleanOptionalAction, default=True,
                     help="NeMo text normalization, on by default as in the official server")
    serve = sub.add_parser("serve", parents=[model], help="OpenAI-compatible speech server (continuous batching)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--slots", type=int, default=8, help="requests decoded together (cache rows)")
    serve.add_argument("--max-queue", type=int, default=32, help="waiting requests before 429")
    serve.add_argument("--allowed-local-media-path", help="reference audio may name server-local files under this "
                                                          "folder (sglang-omni's references[].audio_path, file://)")
    serve.add_argument("--default-voices-dir", help="audio files (needs --speaker-encoder) or .npy/.npz embeddings "
                                                    "listed by GET /tts/speakers as default voices")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    try:
        tts = _load(args)
        [audio] = tts.generate(args.text, [args.speaker] if args.speaker else None,
                               Conditioning(text_normalization=args.normalize_text, language=args.language),
                               SamplingParams(seed=args.seed, max_frames=args.max_frames, ignore_eos=args.ignore_eos))
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sf.write(args.out, audio, tts.sample_rate, subtype="FLOAT")
    print(f"{args.out}: {len(audio) / tts.sample_rate:.2f} s")
    return 0


def _load(args) -> Zonos2TTS:
    return Zonos2TTS.from_pretrained(args.checkpoint, args.revision, args.vocoder, None, args.speaker_encoder,
                                     args.device, args.dtype, speaker_encoder_trust_remote_code=args.trust_speaker_encoder_code,
                                     cpu_kernels=args.cpu_kernels, load_format=args.load_format)


def _serve(args) -> int:
    import uvicorn

    from zonos2.server import Service, create_app
    from zonos2.speaker import load_saved_embedding
    from zonos2.voices import VoiceStore

    try:
        tts = _load(args)
        voices = VoiceStore.from_dir(args.default_voices_dir,
                                     (lambda samples, rate: tts.speaker_embedding((samples, rate))) if tts.embedder else None,
                                     lambda path: load_saved_embedding(path, tts.config.speaker_embedding_dim))
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(create_app(Service(tts, args.slots, args.max_queue, voices=voices,
                                       allowed_media_dir=args.allowed_local_media_path)), host=args.host, port=args.port,
                timeout_graceful_shutdown=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
