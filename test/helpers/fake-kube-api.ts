// A stand-in for the Kubernetes API as the in-pod scripts see it through their only client,
// curl: a fake curl on PATH that keeps the API's state in files (FAKE_API_DIR): each call is
// appended to `calls` as "METHOD URL BODY"; labelling a claim (PATCH .../persistentvolumeclaims/
// NAME) adds NAME to `labelled`, which a GET lists back; a pod named in `ready` is Ready, one in
// `terminating` is being deleted; anything else answers "{}". With `down` present curl fails to
// connect; `status` sets the HTTP status.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface FakeApi {
  /** Directory to put first on PATH (holds the fake curl). */
  bin: string;
  /** The state directory (FAKE_API_DIR). */
  state: string;
  /** The ServiceAccount files (KUBE_API_DIR: token, ca.crt). */
  serviceAccount: string;
}

/** Create the fake under ROOT (bin/, api/, kube-api/). */
export function createFakeApi(root: string): FakeApi {
  const api: FakeApi = { bin: join(root, "bin"), state: join(root, "api"), serviceAccount: join(root, "kube-api") };
  for (const d of Object.values(api)) mkdirSync(d, { recursive: true });
  writeFileSync(join(api.serviceAccount, "token"), "test-token");
  writeFileSync(join(api.serviceAccount, "ca.crt"), "test-ca");
  writeFileSync(join(api.state, "labelled"), "");
  writeFileSync(
    join(api.bin, "curl"),
    `#!/usr/bin/env bash
api=\${FAKE_API_DIR:-${api.state}}
method=GET body="" url=""
while (( $# )); do
  case $1 in
    -X) method=$2; shift ;;
    --data-binary) body=$2; shift ;;
    -H|-w|--cacert|--max-time) shift ;;
    https://*) url=$1 ;;
  esac
  shift
done
echo "$method $url $body" >>"$api/calls"
[[ ! -e "$api/down" ]] || { echo "curl: (7) Failed to connect" >&2; exit 7; }
case "$method $url" in
  "GET "*/persistentvolumeclaims*)
    printf '{"kind":"PersistentVolumeClaimList","items":['
    sep=""; while read -r name; do [[ -n $name ]] || continue; printf '%s{"metadata":{"name":"%s"},"spec":{"volumeName":"pvc-%s"}}' "$sep" "$name" "$name"; sep=,; done <"$api/labelled"
    printf ']}' ;;
  "GET "*/pods?fieldSelector=metadata.name%3D*)
    # Pretty-printed like the API server answers curl; a pod in "ready" is Ready, one in
    # "terminating" is being deleted, any other one does not exist.
    name=\${url##*%3D}
    printf '{\\n  "kind": "PodList",\\n  "items": ['
    if grep -qx "$name" "$api/ready" "$api/terminating" 2>/dev/null; then
      ready=False; grep -qx "$name" "$api/ready" 2>/dev/null && ready=True
      deleting=""; grep -qx "$name" "$api/terminating" 2>/dev/null && deleting='"deletionTimestamp": "2026-01-01T00:00:00Z", '
      printf '\\n    {"metadata": {"name": "%s", %s"ownerReferences": [{"name": "db"}]},\\n     "status": {"conditions": [\\n' "$name" "$deleting"
      printf '        {"type": "Initialized", "status": "True"},\\n        {"type": "Ready", "observedGeneration": 1, "status": "%s", "lastProbeTime": null},\\n' "$ready"
      printf '        {"type": "ContainersReady", "status": "True"}]}}'
    fi
    printf ']\\n}' ;;
  "PATCH "*/persistentvolumeclaims/*)
    name=\${url##*/}; grep -qx "$name" "$api/labelled" || echo "$name" >>"$api/labelled"; echo "{}" ;;
  *) echo "{}" ;;
esac
printf '\\n%s' "$(cat "$api/status" 2>/dev/null || echo 200)"
`,
  );
  chmodSync(join(api.bin, "curl"), 0o755);
  return api;
}

/** Make the API report claims NAMES as labelled holding data. */
export function setClaimsHoldingData(api: FakeApi, names: string[]) {
  writeFileSync(join(api.state, "labelled"), names.map((n) => `${n}\n`).join(""));
}

/** Make the API report pods NAMES as Ready, and TERMINATING as being deleted (not Ready). */
export function setPodsReady(api: FakeApi, names: string[], terminating: string[] = []) {
  writeFileSync(join(api.state, "ready"), names.map((n) => `${n}\n`).join(""));
  writeFileSync(join(api.state, "terminating"), terminating.map((n) => `${n}\n`).join(""));
}

/** The calls the scripts made, one "METHOD URL BODY" per line. */
export function fakeApiCalls(api: FakeApi): string {
  const f = join(api.state, "calls");
  return existsSync(f) ? readFileSync(f, "utf8") : "";
}
