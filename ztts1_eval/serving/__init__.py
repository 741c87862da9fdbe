"""Serving measurements: ``load`` measures an OpenAI-compatible speech server's latency and
throughput (``ztts1-eval speed``)."""
