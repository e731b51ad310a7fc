#!/usr/bin/env bash
# npm run verify -- -f my-values.yaml [...]: prove a values file on a real cluster (scripts/verify.ts
# says how). From a fresh machine: the tools and node modules first; verify.ts sets up Docker, the
# images and the kind cluster itself when no --kubeconfig is named.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$PROJECT_ROOT"

main() {
  log "tools"
  bash scripts/install-tools.sh
  if [[ ! -d node_modules ]]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  npx tsx scripts/verify.ts "$@"
}

main "$@"
