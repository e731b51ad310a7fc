#!/usr/bin/env bash
# up.sh: bring up the kind cluster the tests use, and print its kubeconfig path.
#
# Usage: infra/cluster/up.sh [--workers N]
#   CLUSTER_NAME          cluster name (default mysql-chart)
#   USE_STOCK_NODE_IMAGE  1: use kind's stock node image (needs a registry);
#                         otherwise the node image is built locally and cached
#                         (infra/images/node/build.sh).
#
# Idempotent: a healthy cluster of the requested shape is reused; an unhealthy
# one is deleted and created again. The kubeconfig is written to
# $CACHE_DIR/kind-$CLUSTER_NAME.kubeconfig. Re-running after a failure resumes
# the cached build where it stopped.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

CLUSTER_NAME=${CLUSTER_NAME:-mysql-chart}
KUBECONFIG_PATH="$CACHE_DIR/kind-$CLUSTER_NAME.kubeconfig"
WORKERS=0

# usage: print how to call this script.
usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# parse_args ARGS...: read --workers N.
parse_args() {
  while (( $# > 0 )); do
    case $1 in
      --workers) WORKERS=${2:-}; shift 2 ;;
      --workers=*) WORKERS=${1#*=}; shift ;;
      -h|--help) usage; exit 0 ;;
      *) usage >&2; die "unknown argument: $1" ;;
    esac
  done
  [[ $WORKERS =~ ^[0-9]+$ ]] || die "--workers needs a number, got '$WORKERS'"
}

# kc ARGS...: kubectl against this cluster.
kc() { kubectl --kubeconfig "$KUBECONFIG_PATH" "$@"; }

# cluster_exists: true when kind knows a cluster of this name.
# grep without -q reads all input: with pipefail, an early exit could SIGPIPE kind into a false "no".
cluster_exists() { kind get clusters 2>/dev/null | grep -x "$CLUSTER_NAME" >/dev/null; }

# cluster_healthy IMAGE: true when the existing cluster runs IMAGE (unless
# stock), has 1 + WORKERS nodes, all Ready, and its system pods are Ready.
cluster_healthy() {
  local image=$1 nodes ready cp
  kind get kubeconfig --name "$CLUSTER_NAME" >"$KUBECONFIG_PATH.tmp" 2>/dev/null || return 1
  # Called from `if`, so set -e is off here: check each step.
  mv "$KUBECONFIG_PATH.tmp" "$KUBECONFIG_PATH" || return 1
  cp="$CLUSTER_NAME-control-plane"
  if [[ -n $image ]] && [[ $(docker inspect -f '{{.Config.Image}}' "$cp" 2>/dev/null) != "$image" ]]; then
    log "cluster $CLUSTER_NAME runs another node image than $image"; return 1
  fi
  nodes=$(kc get nodes --no-headers 2>/dev/null | wc -l) || return 1
  ready=$(kc get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l) || return 1
  if (( nodes != WORKERS + 1 )); then log "cluster $CLUSTER_NAME has $nodes nodes, want $((WORKERS + 1))"; return 1; fi
  if (( ready != nodes )); then log "cluster $CLUSTER_NAME: only $ready of $nodes nodes Ready"; return 1; fi
  kc -n kube-system wait --for=condition=Ready pod --all --timeout=20s >/dev/null 2>&1 || return 1
}

# write_config FILE: the kind cluster config (one control plane, WORKERS workers).
write_config() {
  {
    printf 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n'
    local i; for ((i = 0; i < WORKERS; i++)); do printf '  - role: worker\n'; done
  } >"$1"
}

# check_disk_for_cluster: fail early when Docker's disk is nearly full.
check_disk_for_cluster() {
  local root avail
  root=$(docker info --format '{{.DockerRootDir}}' 2>/dev/null || echo /var/lib/docker)
  [[ -d $root ]] || return 0
  avail=$(df -Pk "$root" | awk 'NR==2 {print int($4/1024/1024)}')
  (( avail >= 3 )) || die "only ${avail} GiB free under $root; a kind cluster needs at least 3 GiB. Free space (docker system prune) and re-run."
}

# create_cluster IMAGE: create the cluster, or export logs and clean up on failure.
create_cluster() {
  local image=$1 cfg="$CACHE_DIR/kind-$CLUSTER_NAME.yaml" args=()
  write_config "$cfg"
  [[ -n $image ]] && args+=(--image "$image")
  log "creating kind cluster $CLUSTER_NAME (1 control plane, $WORKERS workers)"
  if ! kind create cluster --name "$CLUSTER_NAME" "${args[@]}" --config "$cfg" \
      --kubeconfig "$KUBECONFIG_PATH" --wait 3m >"$CACHE_DIR/logs/kind-create-$CLUSTER_NAME.log" 2>&1; then
    tail -n 30 "$CACHE_DIR/logs/kind-create-$CLUSTER_NAME.log" >&2
    local logs
    logs="$CACHE_DIR/logs/kind-$CLUSTER_NAME-$(date +%Y%m%d-%H%M%S)"
    kind export logs --name "$CLUSTER_NAME" "$logs" >/dev/null 2>&1 || true
    kind delete cluster --name "$CLUSTER_NAME" >/dev/null 2>&1 || true
    die "kind create cluster failed. Log: $CACHE_DIR/logs/kind-create-$CLUSTER_NAME.log; node logs: $logs. Re-run this script to retry; 'docker info' and 'df -h' tell whether Docker or disk is the cause."
  fi
}

# wait_system_ready: wait until nodes, the CNI, DNS and storage are Ready.
wait_system_ready() {
  log "waiting for nodes, CNI, DNS and storage"
  kc wait --for=condition=Ready node --all --timeout=180s >/dev/null ||
    die "nodes did not become Ready; see 'kubectl --kubeconfig $KUBECONFIG_PATH describe nodes' and 'kind export logs --name $CLUSTER_NAME'"
  local ds
  for ds in kube-router kindnet; do
    if kc -n kube-system get ds "$ds" >/dev/null 2>&1; then
      kc -n kube-system rollout status ds/"$ds" --timeout=180s >/dev/null || die "CNI daemonset $ds did not become Ready"
    fi
  done
  kc -n kube-system rollout status deploy/coredns --timeout=180s >/dev/null || die "CoreDNS did not become Ready"
  kc -n local-path-storage rollout status deploy/local-path-provisioner --timeout=180s >/dev/null ||
    die "the local-path provisioner did not become Ready"
}

# load_test_image: make the smoke test's busybox image available in the nodes
# (it is preloaded in the locally-built node image; load it for stock images).
load_test_image() {
  local img
  img=$("$PROJECT_ROOT/infra/images/busybox/build.sh" >/dev/null && cat "$CACHE_DIR/busybox-image")
  if [[ ${USE_STOCK_NODE_IMAGE:-} == 1 ]]; then
    kind load docker-image --name "$CLUSTER_NAME" "$img" >/dev/null
  fi
  log "test image: $img"
}

main() {
  parse_args "$@"
  "$PROJECT_ROOT/infra/docker/ensure-docker.sh"
  mkdir -p "$CACHE_DIR/logs"
  local image=""
  if [[ ${USE_STOCK_NODE_IMAGE:-} == 1 ]]; then
    log "USE_STOCK_NODE_IMAGE=1: using kind $KIND_VERSION's stock node image (pulled from its registry)"
  else
    image=$("$PROJECT_ROOT/infra/images/node/build.sh") || die "building the node image failed (see the step and log path above); re-run to resume."
  fi
  # Always, not only when the node image is built: Docker may still hold the image while this
  # cache directory is new (cleared, or another MYSQL_CHART_CACHE). Cached builds make it quick.
  "$PROJECT_ROOT/infra/cluster/build-tools.sh" || die "building kind, kubectl and crictl failed (see the step and log path above); re-run to resume."
  need_cmd kind "infra/cluster/build-tools.sh should have built it into $TOOLS_BIN"

  if cluster_exists; then
    if cluster_healthy "$image"; then
      log "cluster $CLUSTER_NAME is up and healthy: reusing it"
    else
      log "cluster $CLUSTER_NAME exists but is not healthy or not of the requested shape: recreating it"
      kind delete cluster --name "$CLUSTER_NAME" >/dev/null 2>&1 || true
    fi
  fi
  if ! cluster_exists; then
    check_disk_for_cluster
    create_cluster "$image"
  fi
  # Not `a && b`: set -e ignores a failure left of &&.
  kind get kubeconfig --name "$CLUSTER_NAME" >"$KUBECONFIG_PATH.tmp" || die "kind get kubeconfig --name $CLUSTER_NAME failed"
  mv "$KUBECONFIG_PATH.tmp" "$KUBECONFIG_PATH"
  wait_system_ready
  load_test_image
  log "cluster $CLUSTER_NAME ready ($(kc get nodes --no-headers | wc -l) nodes, Kubernetes $(kc version -o json | jq -r .serverVersion.gitVersion))"
  log "use it with: export KUBECONFIG=$KUBECONFIG_PATH"
  printf '%s\n' "$KUBECONFIG_PATH"
}

main "$@"
