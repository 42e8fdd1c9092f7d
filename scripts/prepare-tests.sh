#!/usr/bin/env bash
# Runs before the test suite (`pnpm test` calls it): makes sure what the suite talks to is there,
# or stops and says exactly what is missing. No test skips because something is absent.
#   - the brokers: NATS with JetStream, RabbitMQ and Mosquitto (started, installed from
#     Debian's packages when the machine allows it), see scripts/ensure-brokers.sh;
#   - Chromium for the docs-page browser test, see packages/http/scripts/ensure-chromium.sh.
# CONDUIT_SKIP_PREPARE=1 skips this step (when you manage the servers yourself).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${CONDUIT_SKIP_PREPARE:-0}" == 1 ]]; then
  echo "prepare-tests: skipped (CONDUIT_SKIP_PREPARE=1)"
  exit 0
fi
status=0
bash scripts/ensure-brokers.sh </dev/null || status=1
bash packages/http/scripts/ensure-chromium.sh </dev/null || status=1
if ((status != 0)); then
  echo "prepare-tests: the suite cannot run on this machine yet; see the errors above" >&2
  exit 1
fi
