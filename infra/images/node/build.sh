#!/usr/bin/env bash
# node/build.sh: assemble a kind node image with no container registry.
#
# What kind ${KIND_VERSION}'s `kind build node-image` would produce, from
# reachable pieces only (Debian's packages, the Go module proxy):
#   1. a Debian bookworm base by debootstrap (systemd, containerd 1.6, runc,
#      CNI plugins, iptables, nftables, conntrack ...) plus kind's own files
#      from its module (images/base/files), set up as images/base/Dockerfile does;
#   2. the Kubernetes ${KUBERNETES_VERSION} binaries, crictl, /kind/version and
#      the manifests kind applies (kube-router as CNI, kind's local-path storage);
#   3. every image kubeadm and kind need, built locally, preloaded into the
#      node's containerd (namespace k8s.io) under their exact upstream names.
# Each step is cached under $CACHE_DIR keyed by versions; re-running resumes.
# Prints the node image name (mysql-chart-toolkit/kind-node:<k8s>-<recipe hash>).
# NODE_IMAGE_REBUILD=1 assembles the image again even when Docker has it.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../../../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/lib/common.sh"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IMAGES_DIR="$PROJECT_ROOT/infra/images"
BASE_REV=1
BASE_KEY="bookworm-kind$KIND_VERSION-r$BASE_REV"
BASE_PACKAGES=systemd,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps,containerd,runc,containernetworking-plugins,ipset,socat,ebtables

# node_image_name: the tag of the node image for the current recipe.
node_image_name() {
  # Hash checked apart: a failing $(...) as printf's argument goes unnoticed (wrong tag).
  local h; h=$(recipe_hash) && [[ -n $h ]] || return 1
  printf 'mysql-chart-toolkit/kind-node:%s-%s\n' "$KUBERNETES_VERSION" "$h"
}

# check_disk: fail early when the cache or Docker's disk is nearly full.
check_disk() {
  local d avail
  for d in "$CACHE_DIR" "$(docker info --format '{{.DockerRootDir}}' 2>/dev/null || echo /var/lib/docker)"; do
    [[ -d $d ]] || continue
    avail=$(df -Pk "$d" | awk 'NR==2 {print int($4/1024/1024)}')
    if (( avail < 8 )); then
      die "only ${avail} GiB free under $d; the node image build needs about 8 GiB. Free space (docker system prune; rm -rf $CACHE_DIR/build/*.tmp) and re-run."
    fi
  done
}

# build_base OUT: debootstrap the node's Debian base and lay kind's base files
# over it the way kind's images/base/Dockerfile does; archive as OUT/rootfs.tar.
build_base() {
  local out=$1 r="$1/rootfs" kind
  kind=$(go_module_dir sigs.k8s.io/kind "$KIND_VERSION")/images/base/files
  debootstrap_rootfs "$r" bookworm minbase "$BASE_PACKAGES"

  install -m 0755 "$kind"/usr/local/bin/* "$r/usr/local/bin/"
  mkdir -p "$r/kind" "$r/LICENSES"
  cp -r "$kind/kind/." "$r/kind/"
  find "$r/kind" -type f -exec chmod 0644 {} +
  chmod 0755 "$r/kind/bin" "$r"/kind/bin/*
  install -m 0644 "$kind"/LICENSES/* "$r/LICENSES/"
  install -m 0644 "$kind/etc/crictl.yaml" "$r/etc/"
  mkdir -p "$r/etc/containerd" "$r/etc/default" "$r/etc/sysctl.d" "$r/etc/systemd/system/kubelet.service.d"
  install -m 0644 "$kind"/etc/default/* "$r/etc/default/"
  install -m 0644 "$kind"/etc/sysctl.d/* "$r/etc/sysctl.d/"
  find "$kind/etc/systemd/system" -maxdepth 1 -type f -exec install -m 0644 {} "$r/etc/systemd/system/" \;
  install -m 0644 "$kind"/etc/systemd/system/kubelet.service.d/* "$r/etc/systemd/system/kubelet.service.d/"

  # containerd: kind's config, with the pause tag kubeadm wants, without the
  # fuse-overlayfs proxy plugin (not installed), and restrict_oom_score_adj on
  # (without it Debian's containerd 1.6 fails every sandbox here with
  # "can't get final child's PID from pipe: EOF").
  sed -e "s#sandbox_image = .*#sandbox_image = \"registry.k8s.io/pause:$PAUSE_IMAGE_TAG\"#" \
      -e 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' \
      -e '/^\[proxy_plugins/,/^$/d' -e '/^# fuse-overlayfs is used for rootless/d' \
      "$kind/etc/containerd/config.toml" >"$r/etc/containerd/config.toml"
  grep -q 'restrict_oom_score_adj = true' "$r/etc/containerd/config.toml"
  # kind's units expect containerd in /usr/local/bin and CNI plugins in /opt/cni/bin.
  ln -sf /usr/bin/containerd "$r/usr/local/bin/containerd"
  mkdir -p "$r/opt/cni/bin"
  local p; for p in "$r"/usr/lib/cni/*; do ln -sf "/usr/lib/cni/${p##*/}" "$r/opt/cni/bin/${p##*/}"; done
  chroot "$r" ctr oci spec |
    jq '.hooks.createContainer[.hooks.createContainer | length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
    jq 'del(.process.rlimits)' >"$r/etc/containerd/cri-base.json"

  # systemd in a container, as kind's base image sets it up.
  find "$r/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
  rm -f "$r"/lib/systemd/system/multi-user.target.wants/* "$r"/etc/systemd/system/*.wants/* \
    "$r"/lib/systemd/system/local-fs.target.wants/* "$r"/lib/systemd/system/sockets.target.wants/*udev* \
    "$r"/lib/systemd/system/sockets.target.wants/*initctl* "$r"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"$r/etc/systemd/journald.conf"
  ln -sf /lib/systemd/systemd "$r/sbin/init"
  chroot "$r" systemctl enable kubelet.service containerd.service undo-mount-hacks.service
  chroot "$r" systemctl mask systemd-binfmt.service
  mkdir -p "$r/etc/kubernetes/manifests"

  tar_rootfs "$r" "$out/rootfs.tar"
  rm -rf "$r"
}

# storage_manifest: kind's default storage manifest, read from its source,
# with the image constants filled in.
storage_manifest() {
  local f
  f="$(go_module_dir sigs.k8s.io/kind "$KIND_VERSION")/pkg/build/nodeimage/const_storage.go"
  local prov helper
  prov=$(sed -n 's/^const storageProvisionerImage = "\(.*\)"$/\1/p' "$f")
  helper=$(sed -n 's/^const storageHelperImage = "\(.*\)"$/\1/p' "$f")
  awk '/^const defaultStorageManifest = `/ {on=1; next} on && /^`/ {exit} on {print}' "$f" |
    sed -e "s#\` + storageProvisionerImage + \`#$prov#g" -e "s#\` + storageHelperImage + \`#$helper#g"
}

# build_component_images: build every image the node preloads; print their tarballs.
build_component_images() {
  "$IMAGES_DIR/kubernetes/build.sh"
  "$IMAGES_DIR/etcd/build.sh"
  "$IMAGES_DIR/coredns/build.sh"
  "$IMAGES_DIR/pause/build.sh"
  "$IMAGES_DIR/kube-router/build.sh"
  "$IMAGES_DIR/local-path/build.sh"
  "$IMAGES_DIR/busybox/build.sh"
}

# assemble IMAGE TARS_FILE: the node image from the cached base, the binaries
# and the image tarballs listed in TARS_FILE.
assemble() {
  local image=$1 tars_file=$2 work k8s stage cid
  k8s="$BUILD_DIR/kubernetes-$KUBERNETES_VERSION"
  work=$(mktemp -d "$BUILD_DIR/node.XXXXXX")
  local r="$work/rootfs"; mkdir -p "$r"
  tar --numeric-owner -xf "$BUILD_DIR/node-base-$BASE_KEY/rootfs.tar" -C "$r"
  install -m 0755 "$k8s/kubeadm" "$k8s/kubelet" "$k8s/kubectl" "$r/usr/bin/"
  install -m 0755 "$BUILD_DIR/crictl-$CRI_TOOLS_VERSION/crictl" "$r/usr/local/bin/"
  printf '%s' "$KUBERNETES_VERSION" >"$r/kind/version"
  mkdir -p "$r/kind/manifests"
  sed "s/KUBE_ROUTER_VERSION/$KUBE_ROUTER_VERSION/g" "$IMAGES_DIR/kube-router/kube-router.yaml" >"$r/kind/manifests/default-cni.yaml"
  storage_manifest >"$r/kind/manifests/default-storage.yaml"
  grep -q 'provisioner: rancher.io/local-path' "$r/kind/manifests/default-storage.yaml" || die "could not extract kind's storage manifest"
  mkdir -p "$r/kind/images"
  local t; while read -r t; do cp "$t" "$r/kind/images/"; done <"$tars_file"

  stage="$image-stage"
  tar_rootfs "$r" "$work/rootfs.tar"
  rm -rf "$r"
  import_tar_image "$work/rootfs.tar" "$stage" 'ENV container=docker' 'STOPSIGNAL SIGRTMIN+3' \
    'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]'
  rm -f "$work/rootfs.tar"

  # Preload: run the node's own containerd in a throw-away container and import.
  cid=$(docker run -d --privileged --entrypoint sleep "$stage" infinity)
  # shellcheck disable=SC2016
  docker exec "$cid" bash -ec '
    (containerd >/tmp/containerd.log 2>&1 &)
    for i in $(seq 1 30); do ctr version >/dev/null 2>&1 && break; sleep 1; done
    for t in /kind/images/*.tar; do
      ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack "$t" >/dev/null
    done
    rm -rf /kind/images
    ctr --namespace=k8s.io images ls -q | grep -v "^sha256:" | sort
    pkill containerd; for i in $(seq 1 20); do pgrep containerd >/dev/null || break; sleep 0.5; done
    rm -f /tmp/containerd.log' >"$work/preloaded.txt"
  log "preloaded into the node's containerd: $(tr '\n' ' ' <"$work/preloaded.txt")"
  local want wants
  # Listed apart: a failing $(...) in the for list would make this check pass with nothing checked.
  if ! wants=$("$k8s/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null) || [[ -z $wants ]]; then
    docker rm -f "$cid" >/dev/null; die "kubeadm config images list failed"
  fi
  for want in $wants; do
    grep -qx "$want" "$work/preloaded.txt" || { docker rm -f "$cid" >/dev/null; die "image $want that kubeadm needs is not preloaded"; }
  done
  docker commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'CMD []' \
    "$cid" "$image" >/dev/null
  docker rm -f "$cid" >/dev/null
  docker rmi "$stage" >/dev/null 2>&1 || true
  rm -rf "$work"
}

main() {
  "$PROJECT_ROOT/infra/docker/ensure-docker.sh"
  local image; image=$(node_image_name)
  if docker_has_image "$image" && [[ ${NODE_IMAGE_REBUILD:-} != 1 ]]; then
    log "node image $image: present"
    printf '%s\n' "$image"
    return 0
  fi
  need_go
  check_disk
  log "building node image $image (cold: about 20 minutes on 2 cores; cached steps are skipped)"
  # The two debootstraps are mostly network and disk: run them beside the Go builds.
  local bg_log="$LOG_DIR/node-debootstraps.log" bg_pid
  log "debootstraps (node base, debian-net) run in the background (log: $bg_log)"
  ( "$IMAGES_DIR/debian-net/build.sh" >/dev/null && cached_build node-base "$BASE_KEY" build_base ) >"$bg_log" 2>&1 &
  bg_pid=$!
  "$PROJECT_ROOT/infra/cluster/build-tools.sh" --kubectl-from-full-build
  if ! wait "$bg_pid"; then
    tail -n 20 "$bg_log" >&2
    die "a debootstrap step failed; see $bg_log (and the step log it names). Re-run to resume."
  fi
  log "debootstraps: done"
  local tars; tars=$(mktemp)
  build_component_images >"$tars"
  run_logged "assemble node image" "$LOG_DIR/node-image-assemble.log" assemble "$image" "$tars"
  rm -f "$tars"
  [[ $(docker inspect -f '{{.Config.StopSignal}}' "$image") == "SIGRTMIN+3" ]] || die "node image lacks STOPSIGNAL"
  # Drop image tarballs and node images of older recipes to save disk.
  # Hash checked apart: a failed $(recipe_hash) as -name's argument would prune the current recipe too.
  local hash
  if hash=$(recipe_hash); then
    find "$CACHE_DIR/node-images" -mindepth 1 -maxdepth 1 -type d ! -name "$hash" -exec rm -rf {} + 2>/dev/null || true
  fi
  docker images --format '{{.Repository}}:{{.Tag}}' mysql-chart-toolkit/kind-node | grep -vx "$image" |
    xargs -r docker rmi >/dev/null 2>&1 || true
  log "node image $image: built"
  printf '%s\n' "$image"
}

main "$@"
