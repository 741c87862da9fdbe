#!/usr/bin/env bash
# The GPU checks of the ZONOS2 runner, as one script for a lent device: decode speed at batch 1, 8
# and 64 against the memory roofline (benchmarks/zonos2_decode.py), then our server's latency and
# throughput at 1, 4 and 16 clients (ztts1-eval speed), on random weights of the released size
# and a random DAC of descript/dac_44khz's size (`--load-format dummy`: nothing to download or
# write). Results go to $OUT.
#
#     benchmarks/device_checks.sh           # on the device (not yet run on one: no device was lent)
#     benchmarks/device_checks.sh --tiny    # the same steps on the tiny config, on any CPU (80 s here)
#
# Random weights rarely end an utterance, so every request is capped (--max-new-tokens) and the
# speed rows measure the server, not ZONOS2's real lengths.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
OUT="${OUT:-results/device}"
PORT="${PORT:-8123}"
TINY=()
FRAMES=256
if [ "${1:-}" = "--tiny" ]; then
    TINY=(--tiny)
    FRAMES=32
fi
mkdir -p "$OUT"
WORK="$(mktemp -d)"  # --tiny: the tiny config's params.json
SERVER=""
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

{ nvidia-smi || echo "no nvidia-smi"; "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } \
    > "$OUT/machine.txt" 2>&1

echo "== decode: batch 1, 8, 64 (CPU: 1, 8)"
"$PY" benchmarks/zonos2_decode.py "${TINY[@]}" --out "$OUT/zonos2_decode.json" | tee "$OUT/zonos2_decode.md"

echo "== server: --load-format dummy (random weights of the released config and a random DAC)"
CONFIG=()
if [ ${#TINY[@]} -gt 0 ]; then
    "$PY" -c "import sys; from zonos2.random_checkpoint import tiny_config, write; write(sys.argv[1], tiny_config())" "$WORK"
    CONFIG=(--checkpoint "$WORK" --dtype float32)
fi
"$PY" -m zonos2 serve --load-format dummy "${CONFIG[@]}" --slots 16 --max-queue 64 --port "$PORT" \
    > "$OUT/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break
    kill -0 "$SERVER" 2>/dev/null || { echo "the server stopped:"; tail -20 "$OUT/server.log"; exit 1; }
    sleep 1
done

echo "== speed: 1, 4, 16 clients, streamed pcm, $FRAMES frames a request"
"$PY" -m ztts1_eval speed --url "http://127.0.0.1:$PORT" --concurrency 1,4,16 --requests 32 --warmup 2 \
    --format pcm --max-new-tokens "$FRAMES" --label "ZONOS2 runner (random weights)" --out "$OUT/speed/zonos2_runner"
echo "results in $OUT"
