// Run the chart's in-pod scripts outside Kubernetes: a sandbox laid out like a pod (scripts,
// config source, Secret files, run and data dirs), and a way to call a script's functions
// with some of them replaced, so decisions are tested without servers.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, execaSync } from "execa";
import { projectRoot } from "../../scripts/lib/tools.js";
import { createFakeApi, type FakeApi, fakeApiCalls, setClaimsHoldingData, setPodsReady } from "./fake-kube-api.js";

export const scriptsSrc = join(projectRoot, "chart-src/files/scripts");
export const confSrc = join(projectRoot, "chart-src/files/conf");
export type Flavor = "mysql" | "mariadb";

export interface Sandbox {
  root: string;
  scripts: string;
  confSrc: string;
  secrets: string;
  run: string;
  confDir: string;
  dataRoot: string;
  env: Record<string, string>;
  /** The stand-in for the Kubernetes API (test/helpers/fake-kube-api.ts). */
  api: FakeApi;
}

/** The scripts of FLAVOR laid out as the scripts ConfigMap mounts them: files/scripts/*.sh and the flavor's own, flat and executable. */
export function layoutScripts(dir: string, flavor: Flavor): void {
  mkdirSync(dir, { recursive: true });
  for (const from of [scriptsSrc, join(scriptsSrc, flavor)]) {
    for (const f of readdirSync(from).filter((x) => x.endsWith(".sh"))) {
      copyFileSync(join(from, f), join(dir, f));
      chmodSync(join(dir, f), 0o755);
    }
  }
}

/** The my.cnf ConfigMap's files for FLAVOR, with optional extra lines per role. */
export function layoutConfig(dir: string, flavor: Flavor, extra: { common?: string; primary?: string; replica?: string; initSql?: string } = {}) {
  mkdirSync(dir, { recursive: true });
  for (const f of ["common.cnf", "primary.cnf", "replica.cnf"]) copyFileSync(join(confSrc, flavor, f), join(dir, f));
  writeFileSync(join(dir, "extra-common.cnf"), extra.common ?? "");
  writeFileSync(join(dir, "extra-primary.cnf"), extra.primary ?? "");
  writeFileSync(join(dir, "extra-replica.cnf"), extra.replica ?? "");
  writeFileSync(join(dir, "init.sql"), extra.initSql ?? "");
}

export const testPasswords = {
  "mysql-root-password": "r00t'pa\"ss\\word",
  "mysql-replication-password": "repl-pass",
  "mysql-clone-password": "clone-pass",
  "mysql-password": "app-pass",
  "mysql-test-password": "test-pass",
  "mysql-monitor-password": "monitor-pass",
  "mysql-metrics-password": "metrics-pass",
};

/** The Secret's files. */
export function layoutSecrets(dir: string, values: Record<string, string> = testPasswords) {
  mkdirSync(dir, { recursive: true });
  for (const [k, v] of Object.entries(values)) writeFileSync(join(dir, k), v);
}

/**
 * A release certificate as the chart's Secret holds it (ca.crt, tls.crt, tls.key) in DIR, made
 * with openssl like Helm's genCA/genSignedCert: a CA named CA_CN, and a certificate named CN for
 * DNS_NAMES (by default every test pod, db-N.db), signed by that CA, for servers and clients.
 */
export async function layoutTls(dir: string, o: TlsOptions = {}) {
  mkdirSync(dir, { recursive: true });
  await execa("bash", tlsArgs(dir, o));
}

export interface TlsOptions {
  caCn?: string;
  cn?: string;
  dnsNames?: string[];
}

function tlsArgs(dir: string, o: TlsOptions): string[] {
  const sh = `set -euo pipefail; cd "$1"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj "/CN=$2" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout tls.key -out tls.csr -subj "/CN=$3" 2>/dev/null
printf 'subjectAltName=%s\\nextendedKeyUsage=serverAuth,clientAuth\\n' "$4" >ext.cnf
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out tls.crt -days 30 -extfile ext.cnf 2>/dev/null
rm -f tls.csr ext.cnf ca.srl`;
  const names = (o.dnsNames ?? ["*.db.local", "db"]).map((n) => `DNS:${n}`).join(",");
  return ["-c", sh, "tls", dir, o.caCn ?? "db-ca", o.cn ?? "db", names];
}

let sandboxTls = "";
/** One release certificate for every sandbox of this test process (made once: key generation takes a while). */
function sharedSandboxTls(): string {
  if (!sandboxTls) {
    const dir = mkdtempSync(join(tmpdir(), "pod-tls-"));
    execaSync("bash", tlsArgs(dir, {}));
    sandboxTls = dir;
  }
  return sandboxTls;
}

/** The environment the StatefulSet gives every container of pod POD_NAME (StatefulSet "db"). */
export function podEnv(flavor: Flavor, podName: string): Record<string, string> {
  return {
    POD_NAME: podName,
    STATEFULSET_NAME: "db",
    HEADLESS_SERVICE: "db",
    PRIMARY_HOST: "db-0.db.local",
    POD_NAMESPACE: "local",
    DB_PORT: "3306",
    REPLICATION_USER: "replicator",
    CLONE_USER: "clone",
    SERVER_ID_OFFSET: "100",
    BINLOG_EXPIRE_SECONDS: "604800",
    REQUIRE_SECURE_TRANSPORT: "false",
  };
}

/** A fresh sandbox for pod POD_NAME of FLAVOR. */
export function sandbox(flavor: Flavor, podName = "db-1"): Sandbox {
  const root = mkdtempSync(join(tmpdir(), "pod-"));
  const s: Sandbox = {
    root,
    scripts: join(root, "scripts"),
    confSrc: join(root, "conf-src"),
    secrets: join(root, "secrets"),
    run: join(root, "run"),
    confDir: join(root, "active"),
    dataRoot: join(root, "data"),
    env: {},
    api: createFakeApi(root),
  };
  layoutScripts(s.scripts, flavor);
  layoutConfig(s.confSrc, flavor);
  layoutSecrets(s.secrets);
  for (const d of [s.run, s.confDir, s.dataRoot]) mkdirSync(d, { recursive: true });
  s.env = {
    ...podEnv(flavor, podName),
    DATA_ROOT: s.dataRoot,
    RUN_DIR: s.run,
    CONF_DIR: s.confDir,
    CONF_SRC: s.confSrc,
    SECRETS_DIR: s.secrets,
    TLS_DIR: sharedSandboxTls(),
    INIT_SQL_SECRET_FILE: join(root, "init-sql", "init.sql"),
    CLONE_ATTEMPTS: "3",
    CLONE_RETRY_DELAY_SECONDS: "1",
    POD_NAMESPACE: "ns",
    PRIMARY_HOST: "db-0.db.ns",
    KUBERNETES_SERVICE_HOST: "api.test",
    KUBE_API_DIR: s.api.serviceAccount,
  };
  return s;
}

/** The API's answer to a list of claims: NAMES carry the holds-data label. */
export function claimsHoldingData(s: Sandbox, names: string[]) {
  setClaimsHoldingData(s.api, names);
}

/** The API's answer about pods: NAMES are Ready, TERMINATING are being deleted; others do not exist. */
export function podsReady(s: Sandbox, names: string[], terminating: string[] = []) {
  setPodsReady(s.api, names, terminating);
}

/** The calls the scripts made to the Kubernetes API, one "METHOD URL BODY" per line. */
export function apiCalls(s: Sandbox): string {
  return fakeApiCalls(s.api);
}

/**
 * Source the sandbox's lib.sh, flavor.sh and SCRIPT (whose main does not run when sourced),
 * then run BODY in bash with `set -euo pipefail`. BODY may redefine functions first.
 */
export async function runBash(s: Sandbox, script: string | null, body: string, env: Record<string, string> = {}) {
  const sources = ["lib.sh", "flavor.sh", "passwords.sh", "clone.sh"].map((f) => `. "${s.scripts}/${f}"`);
  if (script) sources.push(`. "${s.scripts}/${script}"`);
  return execa("bash", ["-c", `set -euo pipefail\n${sources.join("\n")}\n${body}`], {
    env: { ...s.env, ...env, PATH: `${s.api.bin}:${process.env.PATH ?? ""}` },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
}
