#!/usr/bin/env bash
# `npm test`: set up what is missing, type-check the tests, lint (biome: format and lint rules;
# knip: unused files, exports and dependencies), then run every test (unit and end-to-end with
# real processes). Extra arguments go to vitest (e.g. a file or --project e2e).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
pnpm exec tsc -p tsconfig.test.json
pnpm run --silent lint
pnpm exec vitest run "$@"
