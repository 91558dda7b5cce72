#!/usr/bin/env bash
# Create .venv and install AdGen into it. Idempotent; safe to re-run.
# torch is installed first and pinned: the CPU wheel on this disk (an unpinned torch would pull a
# multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
python -c "import torch, sys; sys.exit(0 if torch.__version__.startswith('2.13.0') else 1)" 2>/dev/null \
  || python -m pip install -q torch==2.13.0 2>&1 | grep -v "is ignored" || true
python -m pip install -q -e ".[test]" 2>&1 | grep -v "is ignored" || true
# The catalog builder reads Debian's emoji-test.txt (unicode-data) and draws Noto Color Emoji.
command -v apt-get >/dev/null && ! dpkg -s unicode-data fonts-noto-color-emoji >/dev/null 2>&1 && { $([ "$(id -u)" = 0 ] || echo sudo) apt-get install -y -q unicode-data fonts-noto-color-emoji >/dev/null || echo "WARNING: install unicode-data fonts-noto-color-emoji with apt-get for adgen data build"; }
python -c "import torch, shared, workers; print('adgen installed; torch', torch.__version__)"
python -c "from shared.compose.fonts import font_report
for r in font_report(): print(f'fonts: {r.script}:', r.font or f'MISSING, install: {r.fix}')"
bash scripts/default_bank.sh
