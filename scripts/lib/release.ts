// Installing the generated chart as a user would (helm upgrade --install ./generated-chart),
// with the image of each flavor given by environment so the same code runs against kind with
// locally built images or against a user's cluster with registry images.
import { FLAVORS, type Flavor } from "./flavors.js";
import { helm } from "./helm.js";
import { generatedChartDir, versions } from "./tools.js";

export type { Flavor } from "./flavors.js";

export const chartDir = generatedChartDir;

/** The image reference to use for FLAVOR: MYSQL_IMAGE / MARIADB_IMAGE, else the locally built one. */
export function imageFor(flavor: Flavor): string {
  return process.env[FLAVORS[flavor].imageEnv] ?? FLAVORS[flavor].localImage;
}

/** The metrics exporter's image: EXPORTER_IMAGE, else the one built locally from Debian packages. */
export function exporterImage(): string {
  return process.env.EXPORTER_IMAGE ?? versions().LOCAL_IMAGE_EXPORTER;
}

/** --set values that point images.KEY at REF (registry left empty: docker.io, as the node names a loaded image). */
function refValues(key: string, ref: string): Record<string, string> {
  const at = ref.lastIndexOf(":");
  const slash = ref.lastIndexOf("/");
  const [repository, tag] = at > slash ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, "latest"];
  return {
    [`images.${key}.registry`]: "",
    [`images.${key}.repository`]: repository,
    [`images.${key}.tag`]: tag,
    [`images.${key}.pullPolicy`]: process.env.IMAGE_PULL_POLICY ?? "IfNotPresent",
  };
}

/** --set values that point the S3 client's image (backup.s3, restore.from.s3) at RCLONE_IMAGE, else the one built from Debian's rclone (charts from 0.5.0 on). */
export function rcloneImageValues(): Record<string, string> {
  return refValues("rclone", process.env.RCLONE_IMAGE ?? versions().LOCAL_IMAGE_RCLONE);
}

/** --set values that point FLAVOR's image at REF. */
export function imageValues(flavor: Flavor, ref = imageFor(flavor)): Record<string, string> {
  return refValues(flavor, ref);
}

/** --set values that point the metrics exporter's image at exporterImage() (charts from 0.5.0 on). */
export function exporterImageValues(): Record<string, string> {
  return refValues("exporter", exporterImage());
}

export interface ReleaseOptions {
  release: string;
  namespace: string;
  flavor: Flavor;
  set?: Record<string, string | number | boolean>;
  reuseValues?: boolean;
  kubeconfig: string;
  /** The chart to install: a directory or a packaged .tgz; default generated-chart/. */
  chart?: string;
  /** The image reference; default imageFor(flavor). */
  image?: string;
  /** Values files, before the --set values. */
  valuesFiles?: string[];
}

/** helm upgrade --install of generated-chart/ or o.chart (no --wait: callers wait for what they promise). */
export async function upgradeInstall(o: ReleaseOptions) {
  const set = { flavor: o.flavor, ...imageValues(o.flavor, o.image), ...o.set };
  const args = ["upgrade", "--install", o.release, o.chart ?? chartDir, "--namespace", o.namespace, "--create-namespace", "--kubeconfig", o.kubeconfig];
  if (o.reuseValues) args.push("--reuse-values");
  for (const f of o.valuesFiles ?? []) args.push("--values", f);
  for (const [k, v] of Object.entries(set)) args.push("--set", `${k}=${v}`);
  return helm(args, { timeoutMs: 300_000 });
}
