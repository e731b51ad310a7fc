#!/usr/bin/env bash
# load-image.sh IMAGE...: copy local Docker images into every node of the kind
# cluster (CLUSTER_NAME, default mysql-chart), so pods use them without a
# registry. Use a tag other than :latest (or imagePullPolicy: IfNotPresent /
# Never), since :latest makes the kubelet try to pull.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

CLUSTER_NAME=${CLUSTER_NAME:-mysql-chart}

main() {
  (( $# > 0 )) || die "usage: $0 IMAGE... (local Docker images to load into kind cluster $CLUSTER_NAME)"
  need_cmd kind "Run infra/cluster/up.sh first (it builds kind into $TOOLS_BIN)."
  # grep without -q: an early exit could SIGPIPE kind and, with pipefail, fail the check.
  kind get clusters 2>/dev/null | grep -x "$CLUSTER_NAME" >/dev/null || die "no kind cluster named $CLUSTER_NAME; run infra/cluster/up.sh first."
  local img
  for img in "$@"; do
    docker image inspect "$img" >/dev/null 2>&1 || die "image $img is not in the local Docker; build it first."
    [[ $img == *:latest || $img != *:* ]] && log "warning: $img uses :latest; set imagePullPolicy: IfNotPresent or Never"
  done
  log "loading $* into cluster $CLUSTER_NAME"
  kind load docker-image --name "$CLUSTER_NAME" "$@" || die "kind load docker-image failed for: $*"
  log "loaded"
}

main "$@"
