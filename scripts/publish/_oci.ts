// Push a packaged chart to an OCI registry with `helm push`, turning Helm's low-level
// errors into ones that say whether the registry was unreachable or refused the push.
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { helm, HelmError } from "../lib/helm.js";
import { ReleaseError } from "./_release.js";

export interface PushOptions {
  /** Talk plain HTTP to the registry (a local or test registry); default: HTTPS. */
  plainHttp?: boolean;
  /** Extra environment for helm (e.g. HELM_REGISTRY_CONFIG); default: none. */
  env?: Record<string, string>;
}

export interface PushResult {
  /** The reference pushed, e.g. 127.0.0.1:5000/charts/mysql:0.2.0. */
  ref: string;
  digest: string;
}

/** host[:port] of an oci:// URL, or a ReleaseError saying what a URL must look like. */
export function registryHost(ociUrl: string): string {
  const m = /^oci:\/\/([^/]+)(\/.*)?$/.exec(ociUrl);
  if (!m) throw new ReleaseError(`not an OCI registry URL: '${ociUrl}' (expected oci://HOST[:PORT]/PATH, e.g. oci://ghcr.io/OWNER/charts)`);
  return m[1];
}

/** `helm push TGZ OCI_URL`; a .prov next to the package is pushed with it. */
export async function pushChart(tgz: string, ociUrl: string, o: PushOptions = {}): Promise<PushResult> {
  const host = registryHost(ociUrl);
  if (!existsSync(tgz)) throw new ReleaseError(`${tgz} not found: run npm run package first`);
  const args = ["push", tgz, ociUrl.replace(/\/$/, "")];
  if (o.plainHttp) args.push("--plain-http");
  try {
    const r = await helm(args, { env: o.env });
    const out = r.stdout + r.stderr;
    return {
      ref: /Pushed:\s*(\S+)/.exec(out)?.[1] ?? "",
      digest: /Digest:\s*(\S+)/.exec(out)?.[1] ?? "",
    };
  } catch (e) {
    if (!(e instanceof HelmError)) throw e;
    const said = e.stderr.trim();
    if (/connection refused|no such host|i\/o timeout|dial tcp|network is unreachable|connection reset/i.test(said)) {
      throw new ReleaseError(
        `cannot reach the OCI registry at ${host}: is it running, and is ${ociUrl} the right URL?\nhelm said: ${said}`,
      );
    }
    if (/http: server gave HTTP response to HTTPS client/i.test(said)) {
      throw new ReleaseError(`the OCI registry at ${host} speaks plain HTTP: pass --plain-http (only for a local registry).\nhelm said: ${said}`);
    }
    if (/\b(401|403|405)\b|unauthorized|denied|forbidden|not allowed/i.test(said)) {
      throw new ReleaseError(
        `the OCI registry at ${host} refused the push of ${basename(tgz)}: log in with \`helm registry login ${host}\` ` +
          `or check that it accepts writes to ${ociUrl}.\nhelm said: ${said}`,
      );
    }
    throw new ReleaseError(`helm push of ${basename(tgz)} to ${ociUrl} failed.\nhelm said: ${said}`);
  }
}
