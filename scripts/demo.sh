#!/usr/bin/env bash
# The main job: install what is missing, bring up a 3-Pi simulated cluster, deploy the demo app
# (examples/web.yaml), wait until it answers through its NodePort, and print what to try next.
#
#   bash scripts/demo.sh              safe to rerun: the testbed is reused, the app re-applied
#   bash scripts/demo.sh --nodes 5    other arguments go to `pictl demo up`
#   bash scripts/demo.sh --down       remove the testbed
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
  echo "error: run it as root (it installs packages and makes network namespaces): sudo bash $0 $*" >&2
  exit 1
fi
bash scripts/bootstrap.sh
if [[ "${1:-}" == "--down" ]]; then
  shift
  exec .venv/bin/pictl demo down "$@"
fi
exec .venv/bin/pictl demo up "$@"
