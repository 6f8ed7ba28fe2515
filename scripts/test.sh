#!/usr/bin/env bash
# The test command of the README: installs what is missing, starts the native stack
# (Kafka, schema registry, Redis, Prometheus) and runs typecheck, lint, unit and
# integration tests. The stack is left running for fast re-runs; stop it with
# `scripts/stack.sh down`. Extra arguments go to vitest (e.g. a file filter).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/lib.sh"
ensure_node_modules "$ROOT"
# The Redis Cluster too: test/integration/*cluster* run the scorer on it (about a minute).
bash "$ROOT/scripts/stack.sh" up --redis-cluster
cd "$ROOT"
npm run typecheck
npm run lint
npx vitest run "$@"
