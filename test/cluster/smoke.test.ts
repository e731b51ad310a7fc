// Smoke test of the kind cluster itself: the cluster given by env
// KUBECONFIG (default: the one infra/cluster/up.sh wrote) can run pods,
// resolve stable DNS names, route Services, bind storage, run privileged pods
// and enforce NetworkPolicy. Each check runs in its own namespace. Test pods use
// the locally-built busybox image, so nothing is pulled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { apply, connect, createNamespace, deleteNamespaces, execIn, type Kube, kubectl, sleep, waitFor, waitPodReady } from "../../scripts/lib/kube.js";
import { cacheDir } from "../../scripts/lib/tools.js";

const TIMEOUT = 240_000;
const namespaces: string[] = [];
let image = "";
let k: Kube;

/** The small test image built by infra/images/busybox/build.sh (env SMOKE_IMAGE overrides). */
function testImage(): string {
  if (process.env.SMOKE_IMAGE) return process.env.SMOKE_IMAGE;
  const f = join(cacheDir(), "busybox-image");
  if (existsSync(f)) return readFileSync(f, "utf8").trim();
  throw new Error("No test image: run infra/cluster/up.sh (it builds mysql-chart-toolkit/busybox), or set SMOKE_IMAGE.");
}

/** A new namespace for one check, deleted after the suite. */
async function ns(prefix: string): Promise<string> {
  const name = await createNamespace(k, `smoke-${prefix}`);
  namespaces.push(name);
  return name;
}

/** A pod manifest running a shell command in the test image. */
function pod(name: string, command: string, extra: Record<string, unknown> = {}, labels: Record<string, string> = {}) {
  const { container = {}, ...spec } = extra as { container?: Record<string, unknown> };
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: name, ...labels } },
    spec: {
      terminationGracePeriodSeconds: 1,
      // Spread a check's pods over nodes when there are several, so traffic crosses nodes.
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                topologyKey: "kubernetes.io/hostname",
                labelSelector: { matchExpressions: [{ key: "app", operator: "Exists" }] },
              },
            },
          ],
        },
      },
      containers: [
        { name: "main", image, imagePullPolicy: "IfNotPresent", command: ["sh", "-c", command], ...container },
      ],
      ...spec,
    },
  });
}

/** A shell command serving "$HOSTNAME" over HTTP on port 8080 with busybox httpd. */
const SERVE = "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www";

/** The IP of a pod. */
async function podIP(namespace: string, name: string): Promise<string> {
  return (await kubectl(k, ["get", "pod", name, "-n", namespace, "-o", "jsonpath={.status.podIP}"])).stdout.trim();
}

/** Fetch a URL from inside a client pod; returns the body or null on failure. */
async function fetchFrom(namespace: string, client: string, url: string): Promise<string | null> {
  // busybox's own `timeout`: Debian's static busybox wget crashes with its -T option.
  const r = await execIn(k, namespace, client, ["timeout", "5", "wget", "-q", "-O", "-", url], 20_000);
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

beforeAll(async () => {
  image = testImage();
  k = connect();
  // Fail fast with a clear message when there is no cluster.
  await kubectl(k, ["get", "nodes"]);
}, 60_000);

afterAll(async () => {
  await deleteNamespaces(k, namespaces);
}, 60_000);

describe("kind cluster smoke test", () => {
  it("runs a pod", { timeout: TIMEOUT }, async () => {
    const n = await ns("pod");
    await apply(k, n, pod("hello", "echo started; exec sleep 3600"));
    await waitPodReady(k, n, "hello");
    const r = await execIn(k, n, "hello", ["echo", "hello from the pod"]);
    expect(r.stdout.trim()).toBe("hello from the pod");
  });

  it("resolves a pod of a headless Service by its stable DNS name", { timeout: TIMEOUT }, async () => {
    const n = await ns("dns");
    await apply(
      k,
      n,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "db" },
        spec: { clusterIP: "None", selector: { app: "db" }, ports: [{ name: "http", port: 8080 }] },
      }),
    );
    await apply(
      k,
      n,
      JSON.stringify({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "db" },
        spec: {
          serviceName: "db",
          replicas: 1,
          selector: { matchLabels: { app: "db" } },
          template: { metadata: { labels: { app: "db" } }, spec: JSON.parse(pod("db", SERVE)).spec },
        },
      }),
    );
    await apply(k, n, pod("client", "exec sleep 3600"));
    await waitPodReady(k, n, "db-0");
    await waitPodReady(k, n, "client");
    const ip = await podIP(n, "db-0");
    const fqdn = `db-0.db.${n}.svc.cluster.local`;
    let last = "";
    await waitFor(`${fqdn} to resolve to ${ip}`, async () => {
      const r = await execIn(k, n, "client", ["nslookup", fqdn]);
      last = r.stdout + r.stderr;
      return r.exitCode === 0 && last.includes(ip);
    }, { timeoutMs: 90_000 }).catch((e) => {
      throw new Error(`${String(e)}\nlast nslookup output:\n${last}`);
    });
    // The short stable name works through the pod's DNS search path too.
    expect(await fetchFrom(n, "client", `http://db-0.db:8080/`)).toBe("db-0");
  });

  it("routes a ClusterIP Service to its pods", { timeout: TIMEOUT }, async () => {
    const n = await ns("svc");
    for (const name of ["web-a", "web-b"]) {
      await apply(k, n, pod(name, SERVE, {}, { tier: "web" }));
    }
    await apply(
      k,
      n,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web" },
        spec: { type: "ClusterIP", selector: { tier: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
      }),
    );
    await apply(k, n, pod("client", "exec sleep 3600"));
    for (const p of ["web-a", "web-b", "client"]) await waitPodReady(k, n, p);
    const clusterIP = (await kubectl(k, ["get", "svc", "web", "-n", n, "-o", "jsonpath={.spec.clusterIP}"])).stdout.trim();
    expect(clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const seen = new Set<string>();
    await waitFor("both pods to answer through the Service", async () => {
      const body = await fetchFrom(n, "client", `http://web.${n}.svc.cluster.local/`);
      if (body) seen.add(body);
      const byIP = await fetchFrom(n, "client", `http://${clusterIP}/`);
      if (byIP) seen.add(byIP);
      return seen.has("web-a") && seen.has("web-b");
    }, { timeoutMs: 90_000, intervalMs: 200 });
    expect([...seen].sort()).toEqual(["web-a", "web-b"]);
  });

  it("binds a PVC through the default StorageClass and keeps its data across pod deletion", { timeout: TIMEOUT }, async () => {
    const n = await ns("pvc");
    const classes = JSON.parse((await kubectl(k, ["get", "storageclass", "-o", "json"])).stdout) as {
      items: { metadata: { name: string; annotations?: Record<string, string> } }[];
    };
    const defaults = classes.items.filter(
      (c) => c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true",
    );
    expect(defaults.length).toBe(1);
    await apply(
      k,
      n,
      JSON.stringify({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "64Mi" } } },
      }),
    );
    const volume = {
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }],
      container: { volumeMounts: [{ name: "data", mountPath: "/data" }] },
    };
    await apply(k, n, pod("writer", "echo persisted-$(date +%s) > /data/proof && sync && exec sleep 3600", volume));
    await waitPodReady(k, n, "writer");
    const pvc = JSON.parse((await kubectl(k, ["get", "pvc", "data", "-n", n, "-o", "json"])).stdout);
    expect(pvc.status.phase).toBe("Bound");
    expect(pvc.spec.storageClassName).toBe(defaults[0]!.metadata.name);
    const written = (await execIn(k, n, "writer", ["cat", "/data/proof"])).stdout.trim();
    expect(written).toMatch(/^persisted-\d+$/);

    await kubectl(k, ["delete", "pod", "writer", "-n", n, "--wait=true", "--timeout=90s"]);
    await apply(k, n, pod("reader", "exec sleep 3600", volume));
    await waitPodReady(k, n, "reader");
    expect((await execIn(k, n, "reader", ["cat", "/data/proof"])).stdout.trim()).toBe(written);
  });

  it("runs a privileged pod", { timeout: TIMEOUT }, async () => {
    const n = await ns("priv");
    await apply(k, n, pod("priv", "exec sleep 3600", { container: { securityContext: { privileged: true } } }));
    await waitPodReady(k, n, "priv");
    const status = (await execIn(k, n, "priv", ["cat", "/proc/self/status"])).stdout;
    const capEff = BigInt("0x" + (/CapEff:\s*([0-9a-f]+)/.exec(status)?.[1] ?? "0"));
    const CAP_SYS_ADMIN = 21n;
    const CAP_NET_ADMIN = 12n;
    expect((capEff >> CAP_SYS_ADMIN) & 1n).toBe(1n);
    expect((capEff >> CAP_NET_ADMIN) & 1n).toBe(1n);
    // Something only a privileged container may do: mount a filesystem.
    const m = await execIn(k, n, "priv", ["sh", "-c", "mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && echo mounted"]);
    expect(m.stdout.trim(), m.stderr).toBe("mounted");
  });

  it("enforces a NetworkPolicy that denies a connection, and lets it through once removed", { timeout: TIMEOUT }, async () => {
    const n = await ns("netpol");
    await apply(k, n, pod("server", SERVE));
    await apply(k, n, pod("client", "exec sleep 3600"));
    await waitPodReady(k, n, "server");
    await waitPodReady(k, n, "client");
    const url = `http://${await podIP(n, "server")}:8080/`;

    await waitFor("the server to answer before any policy", async () => (await fetchFrom(n, "client", url)) === "server", { timeoutMs: 60_000 });

    await apply(
      k,
      n,
      JSON.stringify({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "deny-server-ingress" },
        spec: { podSelector: { matchLabels: { app: "server" } }, policyTypes: ["Ingress"], ingress: [] },
      }),
    );
    await waitFor("the policy to block the connection", async () => (await fetchFrom(n, "client", url)) === null, { timeoutMs: 90_000 });
    // Still blocked a moment later (not a transient failure).
    await sleep(2000);
    expect(await fetchFrom(n, "client", url)).toBeNull();

    await kubectl(k, ["delete", "networkpolicy", "deny-server-ingress", "-n", n]);
    await waitFor("the connection to work again", async () => (await fetchFrom(n, "client", url)) === "server", { timeoutMs: 90_000 });
  });
});
