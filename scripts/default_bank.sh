#!/usr/bin/env bash
# Build the bank of the default model when it is an exemplar model (docs/gan.md): the catalog
# pictures it retrieves from are built here from the installed packages, never committed.  The
# default catalog's train split reproduces the model card.  Idempotent; run by scripts/setup.sh
# and the Docker images.  A shop runs `adgen model bank MODEL_DIR ITS_CATALOG` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
model=models/default
catalog=${1:-.adgen/catalog64}
exemplar=$(python -c "import json; print(json.load(open('$model/config.json')).get('g_arch') == 'exemplar')")
if [ "$exemplar" = True ] && [ ! -f "$model/bank.safetensors" ]; then
  [ -f "$catalog/metadata.jsonl" ] || adgen data build --out "$catalog" >/dev/null
  adgen model bank "$model" "$catalog" --split train
fi
