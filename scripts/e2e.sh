#!/usr/bin/env bash
# End-to-end tests in a real VS Code (code-server + Chromium), offline.
# Expects the extension built (npm run build -> dist/) and the tests compiled (tsc -b ->
# out/test/e2e/); `npm test` does both in its pretest step.
#   bash scripts/e2e.sh [scenario-name ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/e2e-setup.sh

for f in dist/client.js dist/server.js dist/parseWorker.js; do
  [ -f "$f" ] || { echo "e2e: $f is missing: run 'npm run build' first" >&2; exit 1; }
done
[ -f out/test/e2e/run.js ] || { echo "e2e: out/test/e2e/run.js is missing: run 'npx tsc -b' first" >&2; exit 1; }

exec node out/test/e2e/run.js "$@"
