#!/usr/bin/env bash
# Set up and run the test suite (the README's test command; CI runs exactly this).
# Default selection excludes `slow` tests; run everything with: scripts/test.sh -m "slow or not slow"
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh
. .venv/bin/activate
exec python -m pytest -p no:cacheprovider "$@"
