#!/usr/bin/env bash
# Makes Pebble 2.6 (Debian trixie's package, the first with ARI) available under .cache/pebble/,
# without touching the system's apt sources: a private sources list built from the machine's own
# mirror, a private lists folder, `apt-get download`, then `dpkg -x`. Falls back to Debian 12's
# pebble 2.4 (installed with apt-get when missing). Prints the folder holding `pebble` and
# `pebble-challtestsrv`. Safe to run again: a cached copy is reused.
#
# `fetch-pebble.sh sid` fetches Debian sid's Pebble (2.10) the same way into .cache/pebble-sid/,
# with no fallback: Pebble 2.6 has no ACME profiles (its config has no `profiles`), 2.7+ has.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
suite=${1:-trixie}
case "$suite" in
  trixie) cache="$root/.cache/pebble" ;;
  sid) cache="$root/.cache/pebble-sid" ;;
  *) printf 'fetch-pebble: unknown suite "%s": use trixie (default) or sid\n' "$suite" >&2; exit 2 ;;
esac
bin="$cache/root/usr/bin"
log() { printf 'fetch-pebble: %s\n' "$*" >&2; }

if [ -x "$bin/pebble" ] && [ -x "$bin/pebble-challtestsrv" ]; then
  echo "$bin"; exit 0
fi

try_suite() {
  command -v apt-get >/dev/null || return 1
  local mirror
  mirror=$(apt-get indextargets --format '$(URI)' 2>/dev/null | grep -m1 '/dists/' | sed 's#/dists/.*##') || true
  [ -n "$mirror" ] || { log "no apt mirror found in this machine's sources"; return 1; }
  mkdir -p "$cache/lists/partial" "$cache/debs"
  printf 'deb %s %s main\n' "$mirror" "$suite" > "$cache/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$cache/sources.list" -o Dir::Etc::SourceParts=/nonexistent
              -o "Dir::State::Lists=$cache/lists" -o Debug::NoLocking=1)
  log "reading $suite's package list from $mirror"
  apt-get "${opts[@]}" update >"$cache/apt-update.log" 2>&1 || { log "apt-get update failed (see $cache/apt-update.log)"; return 1; }
  (cd "$cache/debs" && apt-get "${opts[@]}" download "pebble/$suite" >"$cache/apt-download.log" 2>&1) \
    || { log "apt-get download failed (see $cache/apt-download.log)"; return 1; }
  rm -rf "$cache/root"; mkdir -p "$cache/root"
  dpkg -x "$cache/debs"/pebble_*.deb "$cache/root"
  [ -x "$bin/pebble" ] && [ -x "$bin/pebble-challtestsrv" ]
}

if try_suite; then
  log "using $("$bin/pebble" -version 2>&1 | head -1 || echo "pebble from $suite")"
  echo "$bin"; exit 0
fi
if [ "$suite" != trixie ]; then
  log "Pebble from $suite could not be fetched (see $cache/apt-update.log, $cache/apt-download.log)"; exit 1
fi

log "Pebble 2.6 could not be fetched; falling back to Debian 12's pebble 2.4 (no ARI)"
if ! command -v pebble >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update && apt-get install -y pebble) >&2
  else
    log "pebble is not installed and this user cannot install it: run 'sudo apt-get install pebble'"; exit 1
  fi
fi
dirname "$(command -v pebble)"
