// Installing the generated chart as a user would (helm upgrade --install ./generated-chart),
// with the image of each flavor given by environment so the same code runs against kind with
// locally built images or against a user's cluster with registry images.
import { FLAVORS, type Flavor } from "./flavors.js";
import { helm } from "./helm.js";
import { generatedChartDir } from "./tools.js";

export type { Flavor } from "./flavors.js";

export const chartDir = generatedChartDir;

/** The image reference to use for FLAVOR: MYSQL_IMAGE / MARIADB_IMAGE, else the locally built one. */
export function imageFor(flavor: Flavor): string {
  return process.env[FLAVORS[flavor].imageEnv] ?? FLAVORS[flavor].localImage;
}

/** --set values that point FLAVOR's image at REF (registry left empty: REF is used as written). */
export function imageValues(flavor: Flavor, ref = imageFor(flavor)): Record<string, string> {
  const at = ref.lastIndexOf(":");
  const slash = ref.lastIndexOf("/");
  const [repository, tag] = at > slash ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, "latest"];
  return {
    [`images.${flavor}.registry`]: "",
    [`images.${flavor}.repository`]: repository,
    [`images.${flavor}.tag`]: tag,
    [`images.${flavor}.pullPolicy`]: process.env.IMAGE_PULL_POLICY ?? "IfNotPresent",
  };
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
}

/** helm upgrade --install of generated-chart/ or o.chart (no --wait: callers wait for what they promise). */
export async function upgradeInstall(o: ReleaseOptions) {
  const set = { flavor: o.flavor, ...imageValues(o.flavor, o.image), ...o.set };
  const args = ["upgrade", "--install", o.release, o.chart ?? chartDir, "--namespace", o.namespace, "--create-namespace", "--kubeconfig", o.kubeconfig];
  if (o.reuseValues) args.push("--reuse-values");
  for (const [k, v] of Object.entries(set)) args.push("--set", `${k}=${v}`);
  return helm(args, { timeoutMs: 300_000 });
}
