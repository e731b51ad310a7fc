#!/usr/bin/env bash
# kube-api.sh: the few Kubernetes API calls prepare-data.sh makes, with curl and the pod's
# projected ServiceAccount token (KUBE_API_DIR: token, ca.crt). A claim that holds data carries
# the label HOLDS_DATA_LABEL, so pod 0 on an empty volume can tell a lost volume from a fresh
# install even when no replica is running; a new replica asks which pods are Ready to choose its
# donor. Sourced after lib.sh, never run.

HOLDS_DATA_LABEL=mysql-chart.io/holds-data

# kube_api METHOD PATH [BODY [CONTENT_TYPE]]: call the API server; prints the response body.
# 1 on a connection failure or an HTTP status of 400 and above (the body is logged).
kube_api() {
  local method=${1:?kube_api needs METHOD} path=${2:?kube_api needs PATH} body=${3-} type=${4:-application/json}
  local dir=${KUBE_API_DIR:-/var/run/secrets/kubernetes.io/serviceaccount} host=${KUBERNETES_SERVICE_HOST:-} port=${KUBERNETES_SERVICE_PORT:-443}
  local out code token args
  [[ -n "$host" ]] || { log "KUBERNETES_SERVICE_HOST is not set: not running in a pod?"; return 1; }
  [[ "$host" == *:* ]] && host="[$host]" # IPv6
  token=$(<"$dir/token") || { log "no ServiceAccount token in $dir"; return 1; }
  args=(--silent --show-error --max-time 20 --cacert "$dir/ca.crt" -X "$method"
    -H "Authorization: Bearer $token" -H "Accept: application/json" -w '\n%{http_code}')
  [[ -z "$body" ]] || args+=(-H "Content-Type: $type" --data-binary "$body")
  out=$(curl "${args[@]}" "https://$host:$port$path") || { log "the Kubernetes API did not answer $method $path"; return 1; }
  code=${out##*$'\n'}
  out=${out%$'\n'*}
  if [[ ! "$code" =~ ^[0-9]+$ ]] || (( code >= 400 )); then
    log "the Kubernetes API refused $method $path (HTTP $code): ${out:0:300}"
    return 1
  fi
  printf '%s\n' "$out"
}

# json_string VALUE: VALUE as a JSON string literal (quotes, backslashes and control characters escaped).
json_string() {
  local v=${1-}
  v=${v//\\/\\\\}
  v=${v//\"/\\\"}
  v=${v//$'\n'/\\n}
  v=${v//$'\t'/\\t}
  v=${v//$'\r'/}
  printf '"%s"' "$v"
}

# claim_name ORDINAL: the PersistentVolumeClaim the StatefulSet made for that pod.
claim_name() {
  require_env STATEFULSET_NAME
  printf 'data-%s-%d\n' "$STATEFULSET_NAME" "${1:?claim_name needs an ordinal}"
}

# mark_claim_holds_data ORDINAL: label that pod's claim as holding this release's data.
mark_claim_holds_data() {
  local claim
  require_env POD_NAMESPACE
  claim=$(claim_name "${1:?mark_claim_holds_data needs an ordinal}") || return 1
  kube_api PATCH "/api/v1/namespaces/$POD_NAMESPACE/persistentvolumeclaims/$claim" \
    "{\"metadata\":{\"labels\":{\"$HOLDS_DATA_LABEL\":\"true\"}}}" application/merge-patch+json >/dev/null
}

# ordinals_holding_data: the ordinals (1 and up, one per line, sorted) whose claims carry the
# label; nothing when none does. 1 when the API cannot be asked: the caller must not take
# that for "none".
ordinals_holding_data() {
  local list
  require_env POD_NAMESPACE STATEFULSET_NAME
  list=$(kube_api GET "/api/v1/namespaces/$POD_NAMESPACE/persistentvolumeclaims?labelSelector=${HOLDS_DATA_LABEL//\//%2F}%3Dtrue") || return 1
  # Claim names are the only "name" values of the form data-<statefulset>-<N>.
  grep -oE "\"name\": *\"data-${STATEFULSET_NAME//./\\.}-[0-9]+\"" <<<"$list" \
    | sed -E 's/.*-([0-9]+)"$/\1/' | awk '$1 > 0' | sort -n -u || true
}

# pod_ready ORDINAL: 0 when that pod of the StatefulSet exists, is not being deleted, and its Ready
# condition is True (for a replica: replicating within the lag bound, probe.sh); 1 when not; 2 when
# the API cannot be asked (the caller must not take that for "not Ready" forever).
pod_ready() {
  local pod list condition
  require_env POD_NAMESPACE STATEFULSET_NAME
  pod="$STATEFULSET_NAME-${1:?pod_ready needs an ordinal}"
  # A list with a field selector answers 200 with no items for a pod that does not exist yet.
  list=$(kube_api GET "/api/v1/namespaces/$POD_NAMESPACE/pods?fieldSelector=metadata.name%3D$pod") || return 2
  list=$(tr -d ' \n' <<<"$list")
  [[ "$list" == *"\"name\":\"$pod\""* && "$list" != *'"deletionTimestamp"'* ]] || return 1
  # The Ready condition object (no nested objects), then its status.
  condition=$(grep -oE '\{[^{}]*"type":"Ready"[^{}]*\}' <<<"$list") || return 1
  [[ "$condition" == *'"status":"True"'* ]]
}

# label_own_pod KEY VALUE: set one label on this pod (a merge patch; idempotent).
label_own_pod() {
  local key=${1:?label_own_pod needs KEY} value=${2:?label_own_pod needs VALUE}
  require_env POD_NAME POD_NAMESPACE
  kube_api PATCH "/api/v1/namespaces/$POD_NAMESPACE/pods/$POD_NAME" \
    "{\"metadata\":{\"labels\":{$(json_string "$key"):$(json_string "$value")}}}" application/merge-patch+json >/dev/null
}

# pod_event TYPE REASON MESSAGE: record an Event on this pod (kubectl describe pod shows it).
# A failure is logged, never fatal: the same words are in the log.
pod_event() {
  local type=${1:?pod_event needs TYPE} reason=${2:?pod_event needs REASON} message=${3:?pod_event needs MESSAGE} now body
  require_env POD_NAME POD_NAMESPACE
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  body="{\"metadata\":{\"generateName\":$(json_string "$POD_NAME.")},"
  body+="\"involvedObject\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":$(json_string "$POD_NAME"),\"namespace\":$(json_string "$POD_NAMESPACE")},"
  body+="\"type\":$(json_string "$type"),\"reason\":$(json_string "$reason"),\"message\":$(json_string "$message"),"
  body+="\"source\":{\"component\":\"mysql-chart\"},\"firstTimestamp\":\"$now\",\"lastTimestamp\":\"$now\",\"count\":1}"
  kube_api POST "/api/v1/namespaces/$POD_NAMESPACE/events" "$body" >/dev/null || log "could not record the Event $reason (it is in this log)"
}
