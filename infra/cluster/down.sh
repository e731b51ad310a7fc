#!/usr/bin/env bash
# down.sh: delete the kind cluster (CLUSTER_NAME, default mysql-chart) and its
# kubeconfig. Idempotent: nothing to delete is not an error. Cached images and
# binaries stay, so the next up.sh is fast.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

CLUSTER_NAME=${CLUSTER_NAME:-mysql-chart}

main() {
  if ! command -v kind >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
    log "kind or Docker is not available: no cluster to delete"
  elif kind get clusters 2>/dev/null | grep -x "$CLUSTER_NAME" >/dev/null; then  # no -q: see up.sh cluster_exists
    log "deleting kind cluster $CLUSTER_NAME"
    kind delete cluster --name "$CLUSTER_NAME" >/dev/null 2>&1 ||
      die "kind delete cluster --name $CLUSTER_NAME failed; remove its containers with: docker rm -f \$(docker ps -aq --filter label=io.x-k8s.kind.cluster=$CLUSTER_NAME)"
  else
    log "no kind cluster named $CLUSTER_NAME"
  fi
  rm -f "$CACHE_DIR/kind-$CLUSTER_NAME.kubeconfig" "$CACHE_DIR/kind-$CLUSTER_NAME.yaml"
  log "done"
}

main "$@"
