// The systems the benchmark compares: this chart (per flavor and image) and the Kubernetes
// tutorial's StatefulSet (tutorial-mysql.yaml). Both run as StatefulSet "mysql" in a namespace
// of their own, so every phase acts on them the same way; they differ only in how they are
// installed and how SQL reaches a pod.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FLAVORS, type Flavor } from "../lib/flavors.js";
import { apply, type Kube, kubectl, podSql } from "../lib/kube.js";
import { upgradeInstall } from "../lib/release.js";
import { projectRoot, versions } from "../lib/tools.js";
import { CLONE_MARKERS, type CloneMarkers } from "./copy.js";

const pins = versions();

/** The StatefulSet (and, for the chart, release) name of every system: pods are mysql-0, mysql-1... */
export const STS = "mysql";

export interface System {
  /** What the command line and the JSON call it. */
  key: string;
  /** What the table and the chart call it. */
  label: string;
  /** The image the system runs. */
  image: string;
  /** The pods' database container. */
  container: string;
  /** The data volume's mount point, and the server's data directory. */
  dataRoot: string;
  dataDir: string;
  /** Where the pods' clone log marks a transfer (copy.ts); none for a system without one. */
  cloneMarkers?: CloneMarkers;
  /** The primary's address for a client pod in the namespace (lag.ts). */
  primaryHost: string;
  /** The Secret key holding root's password; none when root has none. */
  rootSecret?: { name: string; key: string };
  /** The Secret with the CA and a client certificate (ca.crt, tls.crt, tls.key), when clients use TLS. */
  tlsSecret?: string;
  /** A shell command in the database container that runs the SQL on its stdin as root, one session. */
  clientCommand: string;
  install(k: Kube, namespace: string): Promise<void>;
  /** SQL as root on pod ORDINAL; the result's text (tab-separated, no headers). Throws on failure. */
  sql(k: Kube, namespace: string, ordinal: number, statements: string): Promise<string>;
}

/** Run a bash SCRIPT in pod ORDINAL's database container; never throws (look at exitCode). */
export function podBash(k: Kube, s: System, namespace: string, ordinal: number, script: string, timeoutMs = 120_000) {
  return kubectl(k, ["exec", "-n", namespace, `${STS}-${ordinal}`, "-c", s.container, "--", "bash", "-c", script], { allowFailure: true, timeoutMs });
}

/** This chart from generated-chart/, with its defaults, FLAVOR on IMAGE. */
function chart(key: string, label: string, flavor: Flavor, image: string): System {
  return {
    key,
    label,
    image,
    container: flavor,
    dataRoot: "/var/lib/mysql",
    dataDir: "/var/lib/mysql/data",
    cloneMarkers: CLONE_MARKERS[flavor],
    primaryHost: `${STS}-0.${STS}`,
    rootSecret: { name: STS, key: "mysql-root-password" },
    tlsSecret: `${STS}-tls`,
    clientCommand: '. /opt/mysql-chart/scripts/lib.sh; . /opt/mysql-chart/scripts/flavor.sh; ensure_root_cnf; sql "$CLIENT_CNF"',
    async install(k, namespace) {
      await upgradeInstall({ release: STS, namespace, flavor, image, kubeconfig: k.kubeconfig });
    },
    async sql(k, namespace, ordinal, statements) {
      return (await podSql(k, namespace, `${STS}-${ordinal}`, flavor, statements)).out;
    },
  };
}

/** The tutorial's manifests, with IMAGE in place of the image they name. */
export function tutorialManifest(image: string): string {
  const text = readFileSync(join(projectRoot, "scripts/bench/tutorial-mysql.yaml"), "utf8");
  return text.replaceAll(pins.LOCAL_IMAGE_MARIADB_10_11, image);
}

function tutorial(image: string): System {
  return {
    key: "tutorial",
    label: "tutorial (MariaDB 10.11)",
    image,
    container: "mysql",
    dataRoot: "/var/lib/mysql",
    dataDir: "/var/lib/mysql",
    primaryHost: `${STS}-0.${STS}`,
    // The tutorial's root has no password; the socket is the image's default.
    clientCommand: "mysql -uroot -N -B",
    async install(k, namespace) {
      await apply(k, namespace, tutorialManifest(image));
    },
    async sql(k, namespace, ordinal, statements) {
      const r = await kubectl(k, ["exec", "-i", "-n", namespace, `${STS}-${ordinal}`, "-c", "mysql", "--", "mysql", "-uroot", "-N", "-B"], { input: statements, allowFailure: true });
      if (r.exitCode !== 0) throw new Error(`SQL on ${STS}-${ordinal} failed: ${r.stderr.trim()}\n  ${statements.slice(0, 200)}`);
      return r.stdout.trim();
    },
  };
}

/** Every system the benchmark knows, by key, in the order it runs them. */
export function allSystems(): System[] {
  const mariadb1011 = process.env.MARIADB_10_IMAGE ?? pins.LOCAL_IMAGE_MARIADB_10_11;
  return [
    tutorial(process.env.BENCH_PEER_IMAGE ?? mariadb1011),
    chart("chart-mariadb-10.11", "chart, MariaDB 10.11", "mariadb", mariadb1011),
    chart("chart-mariadb-11.8", "chart, MariaDB 11.8", "mariadb", process.env.MARIADB_IMAGE ?? FLAVORS.mariadb.localImage),
    chart("chart-mysql-9.7", "chart, MySQL 9.7", "mysql", process.env.MYSQL_IMAGE ?? FLAVORS.mysql.localImage),
  ];
}

/** The systems named by KEYS (all when empty); an unknown key is refused, naming the known ones. */
export function selectSystems(keys: string[]): System[] {
  const all = allSystems();
  if (keys.length === 0) return all;
  return keys.map((key) => {
    const s = all.find((x) => x.key === key);
    if (!s) throw new Error(`--systems: unknown system "${key}"; known: ${all.map((x) => x.key).join(", ")}`);
    return s;
  });
}
