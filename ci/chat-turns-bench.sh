#!/usr/bin/env bash
# Time to first token of turns 1..10 of one chat with `hearth serve` (prompt reuse across turns).
# usage: ci/chat-turns-bench.sh [MODEL.gguf] [extra hearth serve options...]
# Without a model, a synthetic Llama-3.2-1B Q4_0 is made in /tmp/bench (hearth synth).
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/jdk.sh
MODEL="${1:-/tmp/bench/llama-3.2-1b-q4_0.gguf}"
shift || true
if [ ! -f "$MODEL" ]; then
  mkdir -p "$(dirname "$MODEL")"
  ./hearth synth --shape 1b --type q4_0 -o "$MODEL"
fi
PORT="${PORT:-18089}"
LOG="$(mktemp)"
./hearth serve -m "$MODEL" --port "$PORT" -c 4096 --quiet "$@" 2>"$LOG" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 600); do
  if curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then cat "$LOG" >&2; exit 1; fi
  sleep 0.5
done
grep -v "^WARNING" "$LOG" >&2 || true
"$JAVA_HOME/bin/java" -cp "cli/target/lib/*" ci/ChatTurnsBench.java "http://127.0.0.1:$PORT" "${TURNS:-10}" "${MAX_TOKENS:-32}"
