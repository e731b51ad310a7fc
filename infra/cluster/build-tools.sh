#!/usr/bin/env bash
# build-tools.sh: build the pinned cluster tools from the Go module proxy into
# $TOOLS_BIN: kind ${KIND_VERSION}, kubectl ${KUBERNETES_VERSION} (from the same
# Kubernetes build as the node image when present, else built alone) and
# crictl ${CRI_TOOLS_VERSION} (the node image needs it too).
# Usage: build-tools.sh [--kubectl-from-full-build]
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../images/node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../images/node/lib.sh"

# build_kind OUT: kind from its module.
build_kind() {
  go_build_in_module "$1" sigs.k8s.io/kind "$KIND_VERSION" "" .
  "$1/kind" version
}

# build_crictl OUT: crictl from sigs.k8s.io/cri-tools.
build_crictl() {
  go_build_in_module "$1" sigs.k8s.io/cri-tools "$CRI_TOOLS_VERSION" \
    "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION" ./cmd/crictl
  "$1/crictl" --version
}

# install_tool SRC NAME: copy a built binary into $TOOLS_BIN atomically.
install_tool() {
  if ! cmp -s "$1" "$TOOLS_BIN/$2"; then
    # Not `cp && mv`: set -e ignores a failure left of && (it only stopped here by being last).
    cp "$1" "$TOOLS_BIN/.$2.tmp" || die "cannot copy $1 into $TOOLS_BIN"
    mv -f "$TOOLS_BIN/.$2.tmp" "$TOOLS_BIN/$2"
  fi
}

main() {
  need_go
  cached_build kind "$KIND_VERSION" build_kind
  install_tool "$BUILD_DIR/kind-$KIND_VERSION/kind" kind
  cached_build crictl "$CRI_TOOLS_VERSION" build_crictl
  install_tool "$BUILD_DIR/crictl-$CRI_TOOLS_VERSION/crictl" crictl
  local k8s
  if [[ ${1:-} == --kubectl-from-full-build || -f $BUILD_DIR/kubernetes-$KUBERNETES_VERSION/.complete ]]; then
    k8s=$("$PROJECT_ROOT/infra/images/kubernetes/build-binaries.sh")
  else
    k8s=$("$PROJECT_ROOT/infra/images/kubernetes/build-binaries.sh" kubectl)
  fi
  install_tool "$k8s/kubectl" kubectl
  log "tools in $TOOLS_BIN: kind $KIND_VERSION, kubectl $KUBERNETES_VERSION, crictl $CRI_TOOLS_VERSION"
}

main "$@"
