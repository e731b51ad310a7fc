// persistence.existingClaim: pod 0's volume is a claim the user made beforehand ("own-data"), not
// one from the StatefulSet's template. A release of its own ("own", one pod), installed beside the
// main one (prepareExistingClaim starts it while the main release installs).
// Expects: nothing of the main release.
import { afterAll, expect, it } from "vitest";
import { helm } from "../../../scripts/lib/helm.js";
import { apply, keepNamespaces, kubectl } from "../../../scripts/lib/kube.js";
import { waitFor } from "../../../scripts/lib/wait.js";
import { E2e, SIDE_RELEASE, TIMEOUTS } from "../context.js";
import { proveInstalled, scenarioFile } from "./scenarios.js";

const CLAIM = "own-data";

/** Create the claim, then install release "own" on it; resolves when its pod is Ready. */
export async function prepareExistingClaim(main: E2e): Promise<E2e> {
  await apply(main.k, main.namespace, JSON.stringify({
    apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: CLAIM, namespace: main.namespace },
    spec: { accessModes: ["ReadWriteOnce"], storageClassName: "standard", resources: { requests: { storage: "1Gi" } } },
  }));
  const own = new E2e(main.flavor, main.namespace, "own");
  own.replicas = 1;
  // Installed from the chart's one-pod scenario, ci/04.
  own.valuesFiles = [scenarioFile("04-single-replica-values.yaml")];
  own.baseSet = { ...SIDE_RELEASE, "persistence.existingClaim": CLAIM };
  await own.upgrade();
  await own.waitAllReady();
  return own;
}

export function existingClaim(release: () => Promise<E2e>) {
  afterAll(async () => {
    const own = await release().catch(() => undefined);
    if (!own || keepNamespaces()) return;
    await helm(["uninstall", "own", "--namespace", own.namespace, "--kubeconfig", own.k.kubeconfig, "--wait=false"], { allowFailure: true });
  });

  it("ci/04 (one pod), which this release is installed from, passes the shared proof of every ci/ scenario", async () => {
    expect(await proveInstalled(await release(), false)).toBeUndefined();
  });

  it("pod 0's data lives on the user's claim, and survives the pod's deletion", async () => {
    const own = await release();
    const pod = await own.k.core.readNamespacedPod({ namespace: own.namespace, name: own.pod(0) });
    expect(pod.spec?.volumes?.find((v) => v.name === "data")?.persistentVolumeClaim?.claimName).toBe(CLAIM);
    const claims = (await own.k.core.listNamespacedPersistentVolumeClaim({ namespace: own.namespace })).items.map((c) => c.metadata?.name);
    expect(claims).not.toContain(`data-${own.pod(0)}`);
    await own.sql(0, "CREATE TABLE appdb.kept (id INT PRIMARY KEY); INSERT INTO appdb.kept VALUES (42);");
    await kubectl(own.k, ["delete", "pod", "-n", own.namespace, own.pod(0), "--wait=true"]);
    await own.waitAllReady();
    expect(await own.sql(0, "SELECT id FROM appdb.kept")).toBe("42");
  });

  it("a second pod (kubectl scale) stops before it starts a server on pod 0's claim, saying why", async () => {
    const own = await release();
    await kubectl(own.k, ["scale", "statefulset", own.sts, "-n", own.namespace, "--replicas=2"]);
    try {
      const logs = await waitFor("pod 1's prepare-data to refuse", async () => {
        const r = await kubectl(own.k, ["logs", "-n", own.namespace, own.pod(1), "-c", "prepare-data"], { allowFailure: true });
        return /persistence\.existingClaim \(own-data\) is pod 0's volume/.test(r.stdout) ? r.stdout : undefined;
      }, { timeoutMs: TIMEOUTS.settle * 3, intervalMs: TIMEOUTS.poll });
      expect(logs.value).not.toMatch(/initialising|cloning/);
      expect(await own.sql(0, "SELECT id FROM appdb.kept")).toBe("42");
    } finally {
      await kubectl(own.k, ["scale", "statefulset", own.sts, "-n", own.namespace, "--replicas=1"]);
    }
  });
}
