#!/usr/bin/env bash
# `pnpm bench:edge`: the edge benchmark on the Node the project runs on. pnpm runs this script
# with whatever node is first on the caller's PATH (Node 20 on a fresh Debian machine); the
# set-up's node selection (infra/scripts/node.sh: the machine's Node when it is 24 or newer, else
# Node 24 from the npm registry in .cache) is put first on PATH here, so tsx, the edge it starts
# (process.execPath) and every role run on 24. Then the peers and load generators (installed
# when missing) and the build. Arguments go to bench/edge-compare.ts (e.g. --rewrite-report), or
# to another bench script named first (`bash bench/run.sh bench/profile-edge.ts full`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
. "$root/infra/scripts/node.sh"
certfleet_use_node "$root"
bash bench/setup-peers.sh
node_modules/.bin/turbo run build --output-logs=errors-only
script=bench/edge-compare.ts
if [[ "${1:-}" == *.ts ]]; then
  script=$1
  shift
fi
exec node_modules/.bin/tsx "$script" "$@"
