#!/usr/bin/env bash
# object-store/build.sh: the S3-compatible server the backup tests write to, built without a
# registry: versitygw (Apache-2.0, github.com/versity/versitygw) at VERSITYGW_VERSION from the Go
# module proxy, in a FROM-scratch image tagged LOCAL_IMAGE_OBJECT_STORE. Its posix backend serves a
# directory: each subdirectory is a bucket. The chart never runs it; the e2e does (test/e2e/object-store.ts).
#
# Idempotent: the binary is cached under $CACHE_DIR/build/versitygw-<version>/, and nothing is done
# when Docker already has the image with this recipe's key.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

KEY_LABEL=org.mysql-chart.build-key

# build_versitygw OUT: the static server binary into OUT.
build_versitygw() {
  go_build_in_module "$1" github.com/versity/versitygw "$VERSITYGW_VERSION" "" ./cmd/versitygw
}

main() {
  need_go
  need_cmd docker "Run: bash infra/docker/ensure-docker.sh"
  local key ctx
  key="versitygw-$VERSITYGW_VERSION-$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)" || die "cannot hash the recipe"
  if [[ "$(docker image inspect "$LOCAL_IMAGE_OBJECT_STORE" --format "{{ index .Config.Labels \"$KEY_LABEL\" }}" 2>/dev/null || true)" == "$key" ]]; then
    log "image $LOCAL_IMAGE_OBJECT_STORE: up to date ($key)"
    return 0
  fi
  cached_build versitygw "$VERSITYGW_VERSION" build_versitygw
  ctx=$(mktemp -d)
  scratch_context "$ctx" '["/usr/local/bin/versitygw"]' "$BUILD_DIR/versitygw-$VERSITYGW_VERSION/versitygw"
  printf 'LABEL %s=%s\nUSER 65534:65534\n' "$KEY_LABEL" "$key" >>"$ctx/Dockerfile"
  docker_build_dir "$LOCAL_IMAGE_OBJECT_STORE" "$ctx" || die "docker build of $LOCAL_IMAGE_OBJECT_STORE failed"
  rm -rf "$ctx"
  log "image $LOCAL_IMAGE_OBJECT_STORE: built ($key)"
}

main "$@"
