#!/usr/bin/env bash
# kubernetes/build.sh: the Kubernetes ${KUBERNETES_VERSION} control-plane images
# kubeadm asks for (registry.k8s.io/kube-apiserver, kube-controller-manager,
# kube-scheduler, kube-proxy at the Kubernetes version), from the binaries of
# build-binaries.sh. The first three are FROM scratch; kube-proxy sits on
# mysql-chart-toolkit/debian-net for iptables, ipset and conntrack.
# Prints the image tarballs' paths.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

main() {
  local bin ctx c image base
  bin=$("$PROJECT_ROOT/infra/images/kubernetes/build-binaries.sh")
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    image="registry.k8s.io/$c:$KUBERNETES_VERSION"
    ctx=$(mktemp -d)
    scratch_context "$ctx" "" "$bin/$c"
    build_image_tar "$image" "$ctx"
    rm -rf "$ctx"
    image_tar "$image"
  done
  base=$("$PROJECT_ROOT/infra/images/debian-net/build.sh")
  image="registry.k8s.io/kube-proxy:$KUBERNETES_VERSION"
  ctx=$(mktemp -d)
  cp "$bin/kube-proxy" "$ctx/"
  printf 'FROM %s\nCOPY kube-proxy /usr/local/bin/kube-proxy\n' "$base" >"$ctx/Dockerfile"
  build_image_tar "$image" "$ctx"
  rm -rf "$ctx"
  image_tar "$image"
}

main "$@"
