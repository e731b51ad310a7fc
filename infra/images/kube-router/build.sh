#!/usr/bin/env bash
# kube-router/build.sh: the cluster's CNI. Builds kube-router ${KUBE_ROUTER_VERSION}
# (a static CGO_ENABLED=0 build of ./cmd/kube-router from the Go module proxy)
# and the image docker.io/cloudnativelabs/kube-router:${KUBE_ROUTER_VERSION} on top
# of mysql-chart-toolkit/debian-net (iptables, ipset, iproute2, conntrack).
# The manifest kind applies is kube-router.yaml beside this script.
# Prints the image tarball's path.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

# build_kube_router OUT: the static kube-router binary into OUT.
build_kube_router() {
  local v=github.com/cloudnativelabs/kube-router/v2/pkg/version
  go_build_in_module "$1" github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION" \
    "-X $v.Version=$KUBE_ROUTER_VERSION -X $v.BuildDate=1970-01-01T00:00:00Z" ./cmd/kube-router
  "$1/kube-router" --version
}

# kube_router_context CTX BINDIR: on top of debian-net (iptables, ipset, ...).
kube_router_context() {
  local base; base=$("$PROJECT_ROOT/infra/images/debian-net/build.sh") || die "the debian-net base image failed to build"
  cp "$2/kube-router" "$1/"
  printf 'FROM %s\nCOPY kube-router /usr/local/bin/kube-router\nWORKDIR /root\nENTRYPOINT ["/usr/local/bin/kube-router"]\n' "$base" >"$1/Dockerfile"
}

binary_image "docker.io/cloudnativelabs/kube-router:$KUBE_ROUTER_VERSION" kube-router "$KUBE_ROUTER_VERSION" build_kube_router kube_router_context
