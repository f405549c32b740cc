#!/usr/bin/env bash
# `npm test`: set up what is missing, then type-check the tests and lint (biome: format and lint
# rules; knip: unused files, exports and dependencies) while every test runs (unit and end-to-end
# with real processes); fails if any of the three fails. The checks take about 15 s and the tests
# minutes, mostly waiting on real time: run side by side, the checks cost no wall time.
# Extra arguments go to vitest (e.g. a file or --project e2e).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
checks_log=$(mktemp)
(pnpm exec tsc -p tsconfig.test.json && pnpm run --silent lint) >"$checks_log" 2>&1 &
checks=$!
tests_status=0
pnpm exec vitest run "$@" || tests_status=$?
checks_status=0
wait "$checks" || checks_status=$?
cat "$checks_log"
rm -f "$checks_log"
if [ "$checks_status" -ne 0 ]; then
  echo "npm test: the type-check or the lint failed (above)" >&2
  exit "$checks_status"
fi
exit "$tests_status"
