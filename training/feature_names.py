"""The feature names and order, read from the TypeScript feature code (the one source)."""

from __future__ import annotations

import json
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]


def feature_names() -> list[str]:
    script = "import('./src/core/features/names.ts').then(m => console.log(JSON.stringify(m.FEATURE_NAMES)))"
    out = subprocess.run(
        ["node", "--import", "tsx", "-e", script], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)
