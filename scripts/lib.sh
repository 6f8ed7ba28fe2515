# Shared helpers for scripts/*.sh (sourced, not run).

# Installs the locked Node dependencies when node_modules is missing or older than the lockfile.
ensure_node_modules() {
  local root="$1"
  if [[ ! -f "$root/node_modules/.package-lock.json" || "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]]; then
    echo "[setup] npm ci"
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
