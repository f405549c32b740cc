#!/usr/bin/env bash
# Installs what certfleet needs on a fresh machine, then builds. Used by `npm test` and
# `npm run demo`; safe to run again (each step is skipped when already done).
#   - Node 24 LTS: the machine's own when it is 24 or newer, else fetched from the npm registry
#     into .cache (infra/scripts/node.sh) and put first on PATH
#   - pnpm, at the version pinned in package.json (npm i -g; a project-local copy without root)
#   - Debian packages: redis-server, openssl, curl; Pebble 2.6 (trixie, cached) or Debian's 2.4
#   - pnpm install --frozen-lockfile, then the turbo build
# Source it (`. infra/scripts/setup.sh`) to get pnpm on PATH in the calling shell.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
say() { printf 'setup: %s\n' "$*" >&2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "certfleet's set-up needs Node.js and npm (any version: Node 24 is fetched through npm). Install them (apt-get install nodejs npm) and run again."
  exit 1
fi
. "$root/infra/scripts/node.sh"
certfleet_use_node "$root"

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  # corepack cannot verify the registry's signatures on these machines; npm can install pnpm.
  if npm install -g "pnpm@$pnpm_version" >/dev/null 2>&1; then
    say "installed pnpm $pnpm_version"
  else
    say "npm install -g failed (no permission?); installing pnpm $pnpm_version into .cache/pnpm"
    npm install --silent --prefix "$root/.cache/pnpm" "pnpm@$pnpm_version" >/dev/null
    export PATH="$root/.cache/pnpm/node_modules/.bin:$PATH"
  fi
fi
[ -x "$root/.cache/pnpm/node_modules/.bin/pnpm" ] && export PATH="$root/.cache/pnpm/node_modules/.bin:$PATH"

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
# The inventory page's browser test (test/e2e/inventory-page.test.ts) drives Debian's Chromium.
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]} from Debian's packages"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "missing ${missing[*]}: install them (e.g. sudo apt-get install ${missing[*]}) and run again"
    exit 1
  fi
fi

PEBBLE_BIN_DIR=$(bash "$root/infra/scripts/fetch-pebble.sh")
export PEBBLE_BIN_DIR

pnpm install --frozen-lockfile --reporter=silent
pnpm exec turbo run build --output-logs=errors-only >&2
say "ready (Node $(node --version), pnpm $(pnpm --version), Pebble from $PEBBLE_BIN_DIR)"
