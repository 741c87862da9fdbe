"""Model workers: small programs that load one open TTS model in *its own* Python environment
and answer synthesis requests over stdin/stdout (:mod:`systems.workers.serve`).

Why a separate process: the open models pin libraries that clash with the scorers' stack
(``qwen-tts`` pins ``transformers==4.57.3``; Qwen3-ASR needs transformers 5), so each can live in
its own virtualenv. The parent side is :class:`systems.worker_system.WorkerSystem`. Worker
modules import only the standard library, numpy and soundfile before the model package.
"""
