#!/usr/bin/env bash
# The main job: install what is missing, then run picluster on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/pictl version
