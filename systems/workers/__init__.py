"""Model workers: small programs that load one open TTS model in *its own* Python environment
and answer synthesis requests over stdin/stdout (:mod:`systems.workers.serve`).

Why a separate process: the open models pin libraries that clash with the scorers' stack
(``qwen-tts`` and ``qwen-asr`` pin transformers 4.57; the native Qwen3-ASR scorer needs
transformers 5), so each can live in its own virtualenv. The official ``qwen-asr`` package runs
here too (:mod:`systems.workers.qwen_asr`): the reference the native scorer is checked against,
and that scorer's ``backend: qwen_asr``. The parent side is
:class:`systems.worker_system.WorkerProcess` (:class:`~systems.worker_system.WorkerSystem` for
TTS models). Worker modules import only the standard library, numpy and soundfile before the model package.
"""
