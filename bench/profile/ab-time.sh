#!/usr/bin/env bash
# Wall time per message on the engine's hot loop, before and after a change, in alternating runs
# (so a busy moment on the machine hits both alike). Instruction counts (count-instructions.sh)
# miss what allocation and string flattening cost; this catches it, with ±5% noise per run.
#   bash bench/profile/ab-time.sh <git ref before> [calls|events] [rounds]
# "before" is core as of <ref>, built into packages/core/dist-before; "after" is the working tree.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ref="${1:?usage: ab-time.sh <git ref> [calls|events] [rounds]}"
mode="${2:-calls}"
rounds="${3:-6}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp" packages/core/dist-before' EXIT
git archive "$ref" packages/core tsconfig.base.json | tar -x -C "$tmp"
ln -s "$PWD/packages/core/node_modules" "$tmp/packages/core/node_modules"
ln -s "$PWD/node_modules" "$tmp/node_modules"
tsc="$PWD/node_modules/.bin/tsc"
(cd "$tmp/packages/core" && "$tsc" -p tsconfig.build.json)
rm -rf packages/core/dist-before && cp -r "$tmp/packages/core/dist" packages/core/dist-before
(cd packages/core && "$tsc" -p tsconfig.build.json)
for _ in $(seq "$rounds"); do
  before="$(CORE_DIST=dist-before PRINT_TIME=1 node bench/profile/engineLoop.mjs 1000000 "$mode")"
  after="$(PRINT_TIME=1 node bench/profile/engineLoop.mjs 1000000 "$mode")"
  echo "before ${before#*: }   after ${after#*: }"
done
