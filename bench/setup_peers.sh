#!/usr/bin/env bash
# Create the virtualenv with the peer anonymisation libraries used by bench/anonymise.py for comparison:
# anjana (k-anonymity etc. by generalisation) and pycanon (anonymity checker, used to verify our output).
# It lives in bench/.venv-peers (gitignored) because both pin old numpy/pandas that must not touch the main .venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-peers"
if [ ! -x "$venv/bin/python" ]; then
  python3.11 -m venv "$venv" 2>/dev/null || python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet anjana pycanon
"$venv/bin/python" -c "import anjana, pycanon, numpy, pandas; print('peers ok', numpy.__version__, pandas.__version__)"
