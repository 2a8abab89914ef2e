#!/usr/bin/env bash
# The whole test suite: lint, types, layering, then unit, integration and e2e tests.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -k store).
set -euo pipefail
cd "$(dirname "$0")/.."
PICLUSTER_APT_UPDATE=${PICLUSTER_APT_UPDATE:-1} bash scripts/bootstrap.sh

export PATH="$PWD/.venv/bin:$PATH"
echo "==> ruff";         ruff check master agent hw tests
echo "==> mypy";         mypy
echo "==> import-linter"; lint-imports
echo "==> pytest"
exec pytest -q -p no:cacheprovider --durations=15 "${@:-tests}"
