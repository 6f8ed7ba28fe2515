#!/usr/bin/env bash
# Creates training/.venv and installs the pinned Python requirements (idempotent).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/training/.venv"
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
stamp="$VENV/.requirements.sha"
want="$(sha256sum "$ROOT/training/requirements.txt" | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/training/requirements.txt"
  echo "$want" >"$stamp"
fi
