#!/usr/bin/env bash
# Instructions per message on the engine's hot loop (memory bridge), counted by callgrind: unlike
# a wall clock, the count barely moves with what else the machine is doing (about ±2% here), so it
# can compare two versions of the engine on a busy 2-core machine.
#   bash bench/profile/count-instructions.sh [calls|events]
# Builds packages/core first; needs valgrind (Debian's package).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mode="${1:-calls}"
(cd packages/core && npx tsc -p tsconfig.build.json)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
count() {
  # --single-threaded: no background JIT threads, so the count repeats
  valgrind --tool=callgrind --callgrind-out-file="$out/$1.out" \
    node --single-threaded bench/profile/engineLoop.mjs "$1" "$mode" 2>&1 |
    awk '/refs:/ { gsub(",", "", $NF); print $NF }'
}
short="$(count 20000)"
long="$(count 40000)"
echo "$mode: $(((long - short) / 20000)) instructions per message (memory bridge, 100 in flight)"
