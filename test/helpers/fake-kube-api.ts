// A stand-in for the Kubernetes API as the in-pod scripts see it through their only client,
// curl: a fake curl on PATH that keeps the API's state in files (FAKE_API_DIR): each call is
// appended to `calls` as "METHOD URL BODY"; labelling a claim (PATCH .../persistentvolumeclaims/
// NAME) adds NAME to `labelled`, which a GET lists back; anything else answers "{}". With `down`
// present curl fails to connect; `status` sets the HTTP status.
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

/** The calls the scripts made, one "METHOD URL BODY" per line. */
export function fakeApiCalls(api: FakeApi): string {
  const f = join(api.state, "calls");
  return existsSync(f) ? readFileSync(f, "utf8") : "";
}
