#!/usr/bin/env bash
# choose-config.sh (init container 1): assemble this pod's my.cnf from the ConfigMap: the
# common file, the primary's or the replica's file chosen by the pod's ordinal, the generated
# identity (server_id = offset + ordinal, stable across restarts), whether TCP clients must use
# TLS, and the user's extra lines.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  require_env POD_NAME SERVER_ID_OFFSET HEADLESS_SERVICE BINLOG_EXPIRE_SECONDS REQUIRE_SECURE_TRANSPORT
  local ordinal role server_id tmp extra
  ordinal=$(pod_ordinal "$POD_NAME")
  role=$(pod_role "$ordinal")
  server_id=$((SERVER_ID_OFFSET + ordinal))
  mkdir -p "$CONF_DIR"
  tmp="$MY_CNF.tmp"
  {
    echo "# Assembled by choose-config.sh for $POD_NAME ($role)."
    cat "$CONF_SRC/common.cnf"
    echo
    cat "$CONF_SRC/$role.cnf"
    echo
    echo "[mysqld]"
    echo "server_id=$server_id"
    echo "port=$DB_PORT"
    echo "report_host=$POD_NAME.$HEADLESS_SERVICE"
    echo "binlog_expire_logs_seconds=$BINLOG_EXPIRE_SECONDS"
    # values: tls.requireSecureTransport (local socket connections count as secure).
    if [[ "$REQUIRE_SECURE_TRANSPORT" == true ]]; then echo "require_secure_transport=ON"; else echo "require_secure_transport=OFF"; fi
    for extra in extra-common.cnf "extra-$role.cnf"; do
      if [[ -s "$CONF_SRC/$extra" ]]; then
        echo "# from values: config.${extra#extra-}" | sed 's/\.cnf$//'
        cat "$CONF_SRC/$extra"
        echo
      fi
    done
  } >"$tmp"
  mv -f "$tmp" "$MY_CNF"
  log "$POD_NAME is the $role, server_id=$server_id"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
