// TLS and the members-only accounts, as seen from the cluster: replication is encrypted and
// verifies the primary; with tls.requireSecureTransport a plaintext client is refused and a
// verifying one gets a cipher; the replication and clone accounts, and root over the network
// (auth.remoteRoot is off by default), refuse their own password from any pod that is not a member
// of the release.
// Expects: the release installed with at least 3 pods, the client pod, and the "helm upgrade"
// feature's UPGRADED_CONFIG applied (tls.requireSecureTransport=true). Creates a namespace of
// its own for an outside pod.
import { afterAll, expect, it } from "vitest";
import { FLAVORS } from "../../../scripts/lib/flavors.js";
import { createNamespace, deleteNamespaces, enforceRestricted, kubectl, podScript, waitFor } from "../../../scripts/lib/kube.js";
import type { Flavor } from "../../../scripts/lib/release.js";
import { CHART, type E2e, TIMEOUTS, UPGRADED_CONFIG } from "../context.js";

/** The flavor's client options: no TLS at all; TLS required (server not verified); TLS verified against CA with the hostname. */
function clientTls(flavor: Flavor) {
  return flavor === "mysql"
    ? { plain: "--ssl-mode=DISABLED", encrypted: "--ssl-mode=REQUIRED", verified: (ca: string) => `--ssl-mode=VERIFY_IDENTITY --ssl-ca=${ca}` }
    : { plain: "--skip-ssl", encrypted: "--ssl --disable-ssl-verify-server-cert", verified: (ca: string) => `--ssl --ssl-verify-server-cert --ssl-ca=${ca}` };
}

/**
 * From pod FROM (namespace NS, its first container) as USER with PASSWORD (given on stdin, never on
 * a command line) to HOST, run SQL with the client OPTIONS; never throws.
 */
async function rawSql(e: E2e, from: string, host: string, user: string, password: string, sql: string, options: string, namespace = e.namespace) {
  const client = FLAVORS[e.flavor].client;
  const body = `read -r MYSQL_PWD; export MYSQL_PWD; ${client} --batch --skip-column-names --connect-timeout=5 -h ${host} -P ${CHART.port} -u ${user} ${options} -e "${sql}"`;
  const r = await kubectl(e.k, ["exec", "-i", "-n", namespace, from, "--", "bash", "-c", body], { input: `${password}\n`, allowFailure: true });
  return { out: r.stdout.trim(), err: r.stderr.trim(), exitCode: r.exitCode ?? -1 };
}

async function secretValue(e: E2e, key: string): Promise<string> {
  const r = await kubectl(e.k, ["get", "secret", "-n", e.namespace, e.sts, "-o", `jsonpath={.data.${key.replace(/\./g, "\\.")}}`]);
  return Buffer.from(r.stdout.trim(), "base64").toString("utf8");
}

export function tls(ctx: () => E2e, flavor: Flavor) {
  const outside: string[] = [];
  afterAll(async () => {
    await deleteNamespaces(ctx().k, outside);
  });
  const opts = clientTls(flavor);

  it("every replica's replication connection is encrypted and verifies the primary's certificate against the release's CA", async () => {
    const e = ctx();
    const fields = flavor === "mysql"
      ? "Source_SSL_Allowed Source_SSL_CA_File Source_SSL_Verify_Server_Cert Source_Host"
      : "Master_SSL_Allowed Master_SSL_CA_File Master_SSL_Verify_Server_Cert Master_Host";
    for (let i = 1; i < e.replicas; i++) {
      const r = await podScript(e.k, e.namespace, e.pod(i), e.container, `status_fields "$CLIENT_CNF" "$REPLICA_STATUS_SQL" ${fields}`);
      expect(r.stdout.trim(), e.pod(i)).toBe(`Yes\t/etc/mysql-chart/tls/ca.crt\tYes\t${e.peerHost(0)}`);
    }
    if (flavor === "mysql") {
      // The primary's side of it: every binary log dump thread runs over TLS.
      const types = await e.sql(0, "SELECT DISTINCT CONNECTION_TYPE FROM performance_schema.threads WHERE PROCESSLIST_COMMAND LIKE 'Binlog Dump%'");
      expect(types).toBe("SSL/TLS");
    }
  });

  it("with tls.requireSecureTransport a plaintext client is refused, and a client verifying the CA and the hostname gets a cipher", async () => {
    const e = ctx();
    const app = await secretValue(e, "mysql-password");
    const host = e.peerHost(0);
    const plain = await rawSql(e, "client", host, "app", app, "SELECT 1", opts.plain);
    expect(plain.exitCode, plain.out).not.toBe(0);
    expect(plain.err).toMatch(/insecure transport/i);
    const verified = await rawSql(e, "client", host, "app", app, "SHOW STATUS LIKE 'Ssl_cipher'", opts.verified("/etc/mysql-chart/tls/ca.crt"));
    expect(verified.exitCode, verified.err).toBe(0);
    expect(verified.out).toMatch(/^Ssl_cipher\t\S+/);
  });

  it("the replication and clone accounts, and root over the network, refuse their own password from a pod of the namespace, a client-labelled pod, another namespace's pod, and with another CA's certificate", async () => {
    const e = ctx();
    const accounts: [string, string][] = [
      ["replicator", await secretValue(e, "mysql-replication-password")],
      ["root", await secretValue(e, "mysql-root-password")],
    ];
    if (!FLAVORS[flavor].backupPort) accounts.push(["clone", await secretValue(e, "mysql-clone-password")]);
    const other = await createNamespace(e.k, "e2e-tls-outside");
    outside.push(other);
    await enforceRestricted(e.k, other);
    await e.startPod("tls-outsider", { namespace: other });
    await e.startClient("tls-labelled", { [`${e.sts}-client`]: "true" });
    const host = e.peerHost(0);
    const fqdn = `${host}.svc.cluster.local`;
    // A certificate with the release certificate's own subject, from a CA of the attacker's.
    const forged = `cd /tmp && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=${e.sts}-ca 2>/dev/null \\
      && openssl req -newkey rsa:2048 -nodes -keyout f.key -out f.csr -subj /CN=${e.sts} 2>/dev/null \\
      && openssl x509 -req -in f.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out f.crt -days 1 2>/dev/null && echo made`;
    expect((await kubectl(e.k, ["exec", "-n", e.namespace, "client", "--", "bash", "-c", forged])).stdout.trim()).toBe("made");
    for (const [user, password] of accounts) {
      const tries = [
        { what: "an unlabelled pod of the namespace", r: await rawSql(e, "client", host, user, password, "SELECT 1", opts.encrypted) },
        { what: "a client-labelled pod", r: await rawSql(e, "tls-labelled", host, user, password, "SELECT 1", opts.encrypted) },
        { what: "a pod of another namespace", r: await rawSql(e, "tls-outsider", fqdn, user, password, "SELECT 1", opts.encrypted, other) },
        { what: "another CA's certificate", r: await rawSql(e, "client", host, user, password, "SELECT 1", `${opts.encrypted} --ssl-cert=/tmp/f.crt --ssl-key=/tmp/f.key`) },
      ];
      for (const t of tries) {
        expect(t.r.exitCode, `${user} from ${t.what}: ${t.r.out}`).not.toBe(0);
        expect(t.r.out, `${user} from ${t.what}`).toBe("");
      }
      for (const t of tries.slice(0, 3)) expect(t.r.err, `${user} from ${t.what}`).toMatch(/Access denied/);
      // The same password from a member of the release, presenting the release's certificate.
      const member = await podScript(e.k, e.namespace, e.pod(2), "replication", `pw=$(cat); write_member_cnf /run/mysqld/m.cnf ${user} "$pw" ${host}; sql /run/mysqld/m.cnf <<<"SELECT 1"; rm -f /run/mysqld/m.cnf`, password);
      expect(member.exitCode, `${user} from a member: ${member.stderr}`).toBe(0);
      expect(member.stdout.trim()).toBe("1");
    }
  });

  it("a new certificate from a new CA (the generated Secret deleted, helm upgrade) is picked up without a restart, and replication resumes", async () => {
    const e = ctx();
    const pods = async () =>
      (await kubectl(e.k, ["get", "pods", "-n", e.namespace, "-l", `app.kubernetes.io/instance=${e.release}`, "-o", "jsonpath={range .items[*]}{.metadata.name}={.metadata.uid}/{.status.containerStatuses[*].restartCount} {end}"])).stdout
        .trim().split(" ").filter((p) => /^\S+-\d+=/.test(p)).sort();
    const before = await pods();
    const oldCa = (await kubectl(e.k, ["get", "secret", "-n", e.namespace, `${e.sts}-tls`, "-o", "jsonpath={.data.ca\\.crt}"])).stdout;
    const t0 = Date.now();
    await kubectl(e.k, ["delete", "secret", "-n", e.namespace, `${e.sts}-tls`]);
    await e.upgrade(UPGRADED_CONFIG);
    const newCa = (await kubectl(e.k, ["get", "secret", "-n", e.namespace, `${e.sts}-tls`, "-o", "jsonpath={.data.ca\\.crt}"])).stdout;
    expect(newCa).not.toBe(oldCa);
    // A pod update makes the kubelet refresh Secret volumes now rather than at its next sync.
    const all = [...Array(e.replicas).keys()].map((i) => e.pod(i));
    await kubectl(e.k, ["annotate", "pod", "-n", e.namespace, ...all, "client", `e2e/certificate=${Date.now()}`, "--overwrite"]);
    const app = await secretValue(e, "mysql-password");
    for (let i = 0; i < e.replicas; i++) {
      // Verified against the new CA: the server presents the new certificate.
      await waitFor(`${e.pod(i)} presenting the new certificate`, async () => {
        const r = await rawSql(e, "client", e.peerHost(i), "app", app, "SELECT 1", opts.verified("/etc/mysql-chart/tls/ca.crt"));
        return r.exitCode === 0 || undefined;
      }, { timeoutMs: TIMEOUTS.readiness * 3, intervalMs: TIMEOUTS.poll });
    }
    e.record("certificate replaced: every server presents the new one", Date.now() - t0);
    // New replication connections verify the primary against the new CA and present the new certificate.
    const word = FLAVORS[flavor].replica;
    for (let i = 1; i < e.replicas; i++) await e.sql(i, `STOP ${word} IO_THREAD; START ${word} IO_THREAD;`);
    await e.sql(0, "CREATE TABLE IF NOT EXISTS appdb.rotation (id INT PRIMARY KEY); REPLACE INTO appdb.rotation VALUES (1);");
    for (let i = 1; i < e.replicas; i++) {
      await e.waitSql(i, "SELECT COUNT(*) FROM appdb.rotation", "1");
      expect(await e.replicaStatus(i), e.pod(i)).toMatchObject({ io: "Yes", sql: "Yes" });
    }
    e.record("certificate replaced: replication verified with the new CA on every replica", Date.now() - t0);
    for (let i = 0; i < e.replicas; i++) {
      const logs = await kubectl(e.k, ["logs", "-n", e.namespace, e.pod(i), "-c", "replication"]);
      expect(logs.stdout, e.pod(i)).toMatch(/certificate files .* changed: the server re-reads them/);
    }
    expect(await pods(), "no pod restarted or was replaced").toEqual(before);
  });

  it("measures what TLS costs a clone's transfer: a donor's data directory sent between two pods over TLS and over plain TCP (reported; the bound is 1.3x)", async () => {
    const e = ctx();
    const tls = "cert=/etc/mysql-chart/tls/tls.crt,key=/etc/mysql-chart/tls/tls.key,cafile=/etc/mysql-chart/tls/ca.crt,verify=1";
    const runs: Record<"plain" | "tls", { ms: number; bytes: number }[]> = { plain: [], tls: [] };
    for (let n = 0; n < 3; n++) {
      for (const mode of ["plain", "tls"] as const) {
        const listen = mode === "plain" ? "TCP-LISTEN:3399,reuseaddr" : `OPENSSL-LISTEN:3399,reuseaddr,${tls}`;
        const connect = mode === "plain" ? `TCP:${e.peerHost(2)}:3399` : `OPENSSL:${e.peerHost(2)}:3399,${tls}`;
        const receiver = kubectl(e.k, ["exec", "-n", e.namespace, e.pod(2), "-c", "replication", "--", "bash", "-c", `socat -u ${listen} STDOUT | wc -c`], { timeoutMs: 300_000 });
        await new Promise((r) => setTimeout(r, 1500));
        const send = `start=$(date +%s%N); tar -C /var/lib/mysql/data -cf - . 2>/dev/null | socat -u STDIN ${connect},retry=20,interval=0.2; echo $(( ($(date +%s%N) - start) / 1000000 ))`;
        const sent = await kubectl(e.k, ["exec", "-n", e.namespace, e.pod(1), "-c", "replication", "--", "bash", "-c", send], { timeoutMs: 300_000 });
        const bytes = Number((await receiver).stdout.trim());
        expect(bytes, `${mode} transfer received`).toBeGreaterThan(1_000_000);
        runs[mode].push({ ms: Number(sent.stdout.trim()), bytes });
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const plain = median(runs.plain.map((r) => r.ms));
    const withTls = median(runs.tls.map((r) => r.ms));
    const bytes = runs.tls[0].bytes;
    const mbps = (ms: number) => Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;
    e.record("data directory sent pod to pod over plain TCP (median of 3)", plain, { bytes, mbPerSecond: mbps(plain) });
    e.record("data directory sent pod to pod over TLS (median of 3)", withTls, { bytes, mbPerSecond: mbps(withTls), ratioToPlain: Math.round((withTls / plain) * 100) / 100 });
  });
}
