#!/usr/bin/env bash
# The main job of the README: installs what is missing, starts the native stack,
# provisions topics and schemas, and runs churnstream on demo traffic.
# Arguments go to `churnstream demo` (see --help).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/lib.sh"
ensure_node_modules "$ROOT"
bash "$ROOT/scripts/stack.sh" up
cd "$ROOT"
npm run --silent build
node dist/app/cli/main.js demo "$@"
