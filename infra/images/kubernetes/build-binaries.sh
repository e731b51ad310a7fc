#!/usr/bin/env bash
# build-binaries.sh: build the Kubernetes ${KUBERNETES_VERSION} binaries
# (kubeadm, kubelet, kubectl, kube-apiserver, kube-controller-manager,
# kube-scheduler, kube-proxy) from the Go module proxy, statically, into
# $CACHE_DIR/build/kubernetes-${KUBERNETES_VERSION}/. Prints that directory.
# With arguments (e.g. "kubectl") only those commands are built, into
# $CACHE_DIR/build/kubernetes-<commands>-${KUBERNETES_VERSION}/.
#
# k8s.io/kubernetes's go.mod replaces its staging modules with local paths
# that are not part of the published module, so the build goes through a
# wrapper module that requires k8s.io/kubernetes and replaces each staging
# module with its published k8s.io/<name> v0.<minor>.<patch>.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

K8S_COMMANDS=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)

# k8s_gomod: print the wrapper go.mod for ${KUBERNETES_VERSION}.
# Runs inside $(...), where set -e may be off: each step is checked.
k8s_gomod() {
  local ver=${KUBERNETES_VERSION#v} src staging
  src=$(go_module_dir k8s.io/kubernetes "$KUBERNETES_VERSION") || return 1
  staging="v0.${ver#*.}"
  printf 'module mysqlcharttoolkit.local/k8sbuild\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$KUBERNETES_VERSION"
  sed -n '/^replace (/,/^)/p' "$src/go.mod" | sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*#\1#p' |
    while read -r m; do printf '\t%s => %s %s\n' "$m" "$m" "$staging"; done || return 1
  printf ')\n'
}

# build_k8s OUT: build all K8S_COMMANDS into OUT.
build_k8s() {
  local out=$1 ver=${KUBERNETES_VERSION#v} major minor
  major=${ver%%.*}; minor=${ver#*.}; minor=${minor%%.*}
  local pfx=k8s.io/component-base/version
  local ldflags="-X $pfx.gitVersion=$KUBERNETES_VERSION -X $pfx.gitMajor=$major -X $pfx.gitMinor=$minor -X $pfx.gitTreeState=clean -X $pfx.buildDate=1970-01-01T00:00:00Z"
  ldflags+=" -X $pfx/verflag.programName=kubernetes"
  local pkgs=() c
  for c in "${K8S_COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  local gomod; gomod=$(k8s_gomod)
  printf '%s\n' "$gomod"
  go_build_wrapper "$out" "$gomod" "$ldflags" "${pkgs[@]}"
  if [[ -x $out/kubeadm ]]; then
    "$out/kubeadm" version -o short
    [[ $("$out/kubeadm" version -o short) == "$KUBERNETES_VERSION" ]]
  fi
}

main() {
  need_go
  local name=kubernetes
  if (( $# > 0 )); then
    K8S_COMMANDS=("$@")
    name="kubernetes-$(printf '%s-' "$@")"; name=${name%-}
  fi
  cached_build "$name" "$KUBERNETES_VERSION" build_k8s
  printf '%s\n' "$BUILD_DIR/$name-$KUBERNETES_VERSION"
}

main "$@"
