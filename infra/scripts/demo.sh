#!/usr/bin/env bash
# `npm run demo`: set up what is missing, then run the whole stack locally until Ctrl-C.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec pnpm exec tsx infra/demo/demo.ts "$@"
