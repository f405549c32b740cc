#!/usr/bin/env bash
# `npm test`: set up what is missing, type-check the tests, lint (biome: format and lint rules;
# knip: unused files, exports and dependencies), check the Prometheus rules (promtool), then run every test (unit and end-to-end with
# real processes). Extra arguments go to vitest (e.g. a file or --project e2e).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
pnpm exec tsc -p tsconfig.test.json
pnpm run --silent lint
# The shipped Prometheus rules must load: promtool comes with Debian's prometheus package.
if ! command -v promtool >/dev/null; then
  echo "test: promtool is missing, so infra/observability/alerts.yml cannot be checked: install it (sudo apt-get install prometheus) and run again" >&2
  exit 1
fi
promtool check rules infra/observability/alerts.yml >/dev/null
# ...and fire when they should, and only then (alerts.test.yml: series in, alerts expected out).
promtool test rules infra/observability/alerts.test.yml >/dev/null
pnpm exec vitest run "$@"
