// Pods without Kubernetes: each "pod" is a Docker container on a private network, reachable
// by the same stable name a StatefulSet pod has (db-N.db), running the chart's scripts in the
// pod's order: choose-config, prepare-data, then the server and the replication sidecar. The
// Kubernetes API the scripts call is the fake of fake-kube-api.ts, shared by all the pods; a pod
// counts as Ready there (a new replica's choice of donor) once waitReady saw its readiness probe
// pass, as the kubelet would, and no longer once it is stopped, restarted or lost.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { GiveUp, waitFor } from "../../scripts/lib/wait.js";
import { createFakeApi, type FakeApi, setPodsReady } from "./fake-kube-api.js";
import { type Flavor, layoutConfig, layoutScripts, layoutSecrets, layoutTls, podEnv, type TlsOptions } from "./pod-scripts.js";

/** Where the pods see the fake Kubernetes API's curl, state and ServiceAccount files. */
const FAKE_API = "/opt/fake-kube-api";

export async function docker(args: string[], input?: string) {
  return execa("docker", args, { input, reject: false, timeout: 300_000 });
}

export async function dockerAvailable(): Promise<boolean> {
  return (await docker(["info", "--format", "{{.ServerVersion}}"])).exitCode === 0;
}

export async function imageExists(image: string): Promise<boolean> {
  return (await docker(["image", "inspect", image])).exitCode === 0;
}

export interface PodOptions {
  env?: Record<string, string>;
  /** More read-only mounts: host directory to path in the pod. */
  mounts?: Record<string, string>;
}

export class LocalPods {
  readonly dir: string;
  readonly network: string;
  readonly api: FakeApi;
  private readonly started = new Set<string>();
  /** The ordinals the fake API reports as Ready. */
  private readonly ready = new Set<number>();

  constructor(
    readonly flavor: Flavor,
    readonly image: string,
    /** The ConfigMap's init SQL and extra replica config, and initSqlSecret's SQL (mounted like the Secret). */
    readonly extra: { initSql?: string; replica?: string; initSqlSecret?: string } = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `pods-${flavor}-`));
    chmodSync(this.dir, 0o755);
    this.network = `mysql-chart-test-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
    layoutScripts(join(this.dir, "scripts"), flavor);
    layoutConfig(join(this.dir, "conf"), flavor, extra);
    layoutSecrets(join(this.dir, "secrets"));
    mkdirSync(join(this.dir, "init-sql"));
    if (extra.initSqlSecret) writeFileSync(join(this.dir, "init-sql", "init.sql"), extra.initSqlSecret);
    for (const d of ["scripts", "conf", "secrets", "init-sql"]) chmodSync(join(this.dir, d), 0o755);
    this.api = createFakeApi(join(this.dir, "fake-api"));
    for (const d of [this.api.bin, this.api.serviceAccount]) chmodSync(d, 0o755);
    chownSync(this.api.state, 999, 999);
    chownSync(join(this.api.state, "labelled"), 999, 999);
    this.setReady();
  }

  /** Record pod ORDINAL as Ready or not in the fake API (none given: just write the list). */
  private setReady(ordinal?: number, ready = true) {
    if (ordinal !== undefined) {
      if (ready) this.ready.add(ordinal);
      else this.ready.delete(ordinal);
    }
    setPodsReady(this.api, [...this.ready].map((o) => `db-${o}`));
    for (const f of ["ready", "terminating"]) chownSync(join(this.api.state, f), 999, 999);
  }

  container(ordinal: number) {
    return `${this.network}-db-${ordinal}`;
  }

  /** The network, and the release's certificate every pod mounts (as the tls Secret volume). */
  async createNetwork() {
    await this.writeTls(join(this.dir, "tls"));
    const r = await docker(["network", "create", this.network]);
    if (r.exitCode !== 0) throw new Error(`docker network create failed: ${r.stderr}`);
  }

  /** Start pod ORDINAL (its data directory persists across stop/start, like a PVC). */
  async start(ordinal: number, o: PodOptions = {}) {
    this.setReady(ordinal, false);
    const data = join(this.dir, `data-${ordinal}`);
    mkdirSync(data, { recursive: true });
    chownSync(data, 999, 999);
    const entry =
      "/opt/mysql-chart/scripts/choose-config.sh && /opt/mysql-chart/scripts/prepare-data.sh && " +
      "{ /opt/mysql-chart/scripts/run-server.sh & /opt/mysql-chart/scripts/replication-sidecar.sh & wait -n; }";
    const name = this.container(ordinal);
    await docker(["rm", "-f", name]);
    const r = await docker(["run", "-d", "--network-alias", `db-${ordinal}.db`, "--network-alias", `db-${ordinal}.db.local`, "--hostname", `db-${ordinal}`, ...this.podArgs(name, `db-${ordinal}`, data, o), "-c", entry]);
    if (r.exitCode !== 0) throw new Error(`docker run ${name} failed: ${r.stderr}`);
    this.started.add(name);
  }

  /**
   * Run SCRIPT once in a container like the pods' (a Job's pod: the same image, scripts, Secret,
   * certificate and network; an empty scratch volume at /var/lib/mysql) and wait for it to end.
   * WRITABLE mounts host directories read-write (a backup destination).
   */
  async runJob(name: string, script: string, o: PodOptions & { writable?: Record<string, string> } = {}) {
    const scratch = mkdtempSync(join(this.dir, `${name}-`));
    chownSync(scratch, 999, 999);
    const container = `${this.network}-${name}`;
    const writable = Object.entries(o.writable ?? {}).flatMap(([host, path]) => ["-v", `${host}:${path}`]);
    const r = await docker(["run", "--rm", ...writable, ...this.podArgs(container, name, scratch, o), "-c", script]);
    return { exitCode: r.exitCode ?? -1, logs: r.stdout + r.stderr };
  }

  /** `docker run` arguments of a pod-like container NAME (POD_NAME POD), up to the shell's "-c". */
  private podArgs(name: string, pod: string, data: string, o: PodOptions): string[] {
    const env: Record<string, string> = {
      ...podEnv(this.flavor, pod),
      APP_USER: "app",
      APP_DATABASE: "appdb",
      CLONE_ATTEMPTS: "3",
      CLONE_RETRY_DELAY_SECONDS: "2",
      DONOR_WAIT_SECONDS: "120",
      BACKUP_PORT: "3307",
      MAX_LAG_SECONDS: "60",
      CONNECT_RETRY_SECONDS: "2",
      PASSWORD_CHECK_SECONDS: "2",
      PATH: `${FAKE_API}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      FAKE_API_DIR: `${FAKE_API}/state`,
      KUBE_API_DIR: `${FAKE_API}/service-account`,
      KUBERNETES_SERVICE_HOST: "api.test",
      POD_NAMESPACE: "local",
      ...o.env,
    };
    return [
      "--init", "--name", name, "--network", this.network, "--user", "999:999",
      "-v", `${join(this.dir, "scripts")}:/opt/mysql-chart/scripts:ro`,
      "-v", `${join(this.dir, "conf")}:/etc/mysql-chart/conf:ro`,
      "-v", `${join(this.dir, "secrets")}:/etc/mysql-chart/secrets:ro`,
      "-v", `${join(this.dir, "init-sql")}:/etc/mysql-chart/init-sql:ro`,
      "-v", `${join(this.dir, "tls")}:/etc/mysql-chart/tls:ro`,
      "-v", `${data}:/var/lib/mysql`,
      "-v", `${this.api.bin}:${FAKE_API}/bin:ro`,
      "-v", `${this.api.state}:${FAKE_API}/state`,
      "-v", `${this.api.serviceAccount}:${FAKE_API}/service-account:ro`,
      "--tmpfs", "/run/mysqld:uid=999,gid=999,mode=0755",
      "--tmpfs", "/etc/mysql-chart/active:uid=999,gid=999,mode=0755",
      "--tmpfs", "/tmp:uid=999,gid=999,mode=1777",
      ...Object.entries(o.mounts ?? {}).flatMap(([host, path]) => ["-v", `${host}:${path}:ro`]),
      "--read-only",
      ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
      "--entrypoint", "bash", this.image,
    ];
  }

  /** A release certificate in DIR, readable by the pods' user only (like the Secret volume's fsGroup). */
  async writeTls(dir: string, o: TlsOptions = {}) {
    await layoutTls(dir, o);
    chmodSync(dir, 0o755);
    for (const f of ["ca.crt", "tls.crt", "tls.key", "ca.key"]) {
      chownSync(join(dir, f), 999, 999);
      chmodSync(join(dir, f), 0o400);
    }
  }

  /** Change one key of the Secret every pod mounts (as editing a Kubernetes Secret does, at once). */
  setSecret(key: string, value: string) {
    const f = join(this.dir, "secrets", key);
    writeFileSync(`${f}.new`, value);
    renameSync(`${f}.new`, f);
  }

  async stop(ordinal: number) {
    this.setReady(ordinal, false);
    await docker(["stop", "-t", "30", this.container(ordinal)]);
  }

  /** Delete pod ORDINAL's container and its data (as deleting a pod and its PVC does). */
  async loseVolume(ordinal: number) {
    this.setReady(ordinal, false);
    await docker(["rm", "-f", "-v", this.container(ordinal)]);
    await execa("rm", ["-rf", join(this.dir, `data-${ordinal}`)]);
  }

  async restart(ordinal: number) {
    this.setReady(ordinal, false);
    await docker(["restart", "-t", "30", this.container(ordinal)]);
  }

  async logs(ordinal: number): Promise<string> {
    const r = await docker(["logs", this.container(ordinal)]);
    return r.stdout + r.stderr;
  }

  /** Run a bash snippet in pod ORDINAL with the scripts' functions loaded and root's client file ready. */
  async bash(ordinal: number, body: string, input?: string) {
    const script = `set -euo pipefail; for f in lib flavor clone; do . /opt/mysql-chart/scripts/$f.sh; done; ensure_root_cnf; ${body}`;
    return docker(["exec", "-i", this.container(ordinal), "bash", "-c", script], input);
  }

  /** SQL as root on pod ORDINAL; returns stdout (tab-separated, no headers). Throws on error. */
  async sql(ordinal: number, statements: string): Promise<string> {
    const r = await this.bash(ordinal, 'sql "$CLIENT_CNF"', statements);
    if (r.exitCode !== 0) throw new Error(`SQL on db-${ordinal} failed: ${r.stderr}\n${statements}`);
    return r.stdout.trim();
  }

  /**
   * SQL as USER (the application user by default) over TCP to pod ORDINAL, from that pod; returns
   * the result (never throws). Root logs in as a member of the release would (root@'%' requires
   * the release's certificate); MEMBER=false tries without it.
   */
  async appSql(ordinal: number, statements: string, user: "app" | "root" = "app", member = user === "root") {
    const key = user === "app" ? "mysql-password" : "mysql-root-password";
    const write = member ? `write_member_cnf /tmp/tcp.cnf ${user} "$pw" db-${ordinal}.db.local` : `write_client_cnf /tmp/tcp.cnf ${user} "$pw" db-${ordinal}.db.local 3306`;
    const body = `pw=$(read_secret ${key}); ${write}; sql /tmp/tcp.cnf`;
    return this.bash(ordinal, body, statements);
  }

  /** Wait until pod ORDINAL's readiness probe passes; throws with its logs after TIMEOUT_MS. */
  async waitReady(ordinal: number, timeoutMs = 300_000): Promise<number> {
    let last = "";
    try {
      return (await waitFor(`db-${ordinal} Ready`, async () => {
        const state = await docker(["inspect", "-f", "{{.State.Running}}", this.container(ordinal)]);
        if (state.stdout.trim() === "false") throw new GiveUp(`db-${ordinal}: the container exited`);
        const r = await docker(["exec", this.container(ordinal), "/opt/mysql-chart/scripts/probe.sh", "readiness"]);
        last = r.stdout + r.stderr;
        if (r.exitCode !== 0) return false;
        this.setReady(ordinal);
        return true;
      }, { timeoutMs, quiet: true })).ms;
    } catch (e) {
      const logs = (await this.logs(ordinal)).split("\n").slice(-60).join("\n");
      throw new Error(`${(e as Error).message} (last probe: ${last.trim()})\n--- last log lines ---\n${logs}`);
    }
  }

  /** Wait until pod ORDINAL's log matches PATTERN; returns the time it took. */
  async waitLog(ordinal: number, pattern: RegExp, timeoutMs = 60_000): Promise<number> {
    return (await waitFor(`db-${ordinal} logs ${pattern}`, async () => pattern.test(await this.logs(ordinal)), { timeoutMs, intervalMs: 500, quiet: true })).ms;
  }

  /** Poll QUERY on pod ORDINAL until it returns EXPECTED; returns the time it took. */
  async waitFor(ordinal: number, query: string, expected: string, timeoutMs = 60_000): Promise<number> {
    let got = "";
    const check = async () => (got = await this.sql(ordinal, query).catch((e: Error) => e.message)) === expected;
    return (await waitFor(`db-${ordinal}: ${query} = ${expected}`, check, { timeoutMs, intervalMs: 1000, quiet: true }).catch((e: Error) => {
      throw new Error(`${e.message}; last answer: ${got}`);
    })).ms;
  }

  async destroy() {
    for (const name of this.started) await docker(["rm", "-f", "-v", name]);
    await docker(["network", "rm", this.network]);
    await execa("rm", ["-rf", this.dir], { reject: false });
  }
}
