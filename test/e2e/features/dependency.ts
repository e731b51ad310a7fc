// As an application chart's dependency: the fixture parent chart (test/fixtures/charts/parent-app,
// condition: mysql.enabled) installs with global values, and its application Job writes through
// the write Service as the application user. A release of its own ("shop", one database pod),
// installed beside the main one (prepareDependency starts it while the main release installs).
// Expects: nothing of the main release.
import { afterAll, expect, it } from "vitest";
import { helm } from "../../../scripts/lib/helm.js";
import { keepNamespaces, kubectl, waitFor } from "../../../scripts/lib/kube.js";
import { imageFor, imageValues } from "../../../scripts/lib/release.js";
import { buildParentChart } from "../../helpers/parent-chart.js";
import { E2e, SIDE_RELEASE, TIMEOUTS } from "../context.js";

/** The values the parent passes: the subchart's under mysql., the shared ones under global. */
const GLOBALS = { "global.imageRegistry": "docker.io", "global.defaultStorageClass": "standard" };

/** Build the parent chart against generated-chart/ and install it as release "shop"; resolves when its database pod is Ready. */
export async function prepareDependency(main: E2e): Promise<E2e> {
  const shop = new E2e(main.flavor, main.namespace, "shop");
  shop.replicas = 1;
  const chart = await buildParentChart();
  // imageValues leaves the registry empty: global.imageRegistry supplies the docker.io/ the node names the local images with.
  const sub: Record<string, string | number | boolean> = { flavor: main.flavor, replicas: 1, ...SIDE_RELEASE, ...imageValues(main.flavor) };
  const set = {
    ...Object.fromEntries(Object.entries(sub).map(([k, v]) => [`mysql.${k}`, v])),
    ...GLOBALS,
    "app.image": `docker.io/${imageFor(main.flavor)}`,
  };
  const args = ["upgrade", "--install", "shop", chart, "--namespace", main.namespace, "--kubeconfig", main.k.kubeconfig];
  for (const [k, v] of Object.entries(set)) args.push("--set", `${k}=${v}`);
  await helm(args, { timeoutMs: 300_000 });
  await shop.waitAllReady();
  return shop;
}

export function dependency(release: () => Promise<E2e>) {
  afterAll(async () => {
    const shop = await release().catch(() => undefined);
    if (!shop || keepNamespaces()) return;
    await helm(["uninstall", "shop", "--namespace", shop.namespace, "--kubeconfig", shop.k.kubeconfig, "--wait=false"], { allowFailure: true });
  });

  it("the parent chart installs the database with its global values: images from global.imageRegistry, claims of global.defaultStorageClass", async () => {
    const shop = await release();
    const pod = await shop.k.core.readNamespacedPod({ namespace: shop.namespace, name: shop.pod(0) });
    const images = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.image);
    expect(images.length).toBeGreaterThan(2);
    for (const image of images) expect(image).toBe(`docker.io/${imageFor(shop.flavor)}`);
    const claim = await shop.k.core.readNamespacedPersistentVolumeClaim({ namespace: shop.namespace, name: `data-${shop.pod(0)}` });
    expect(claim.spec?.storageClassName).toBe("standard");
  });

  it("the application's Job writes through <release>-mysql-primary as the application user, and the row is on the primary", async () => {
    const shop = await release();
    await waitFor("the application's write Job to succeed", async () => {
      const r = await kubectl(shop.k, ["get", "job", "-n", shop.namespace, "shop-write", "-o", "jsonpath={.status.succeeded}/{.status.failed}"], { allowFailure: true });
      if (r.stdout.endsWith("/1")) throw new Error(`the Job failed:\n${(await kubectl(shop.k, ["logs", "-n", shop.namespace, "job/shop-write"], { allowFailure: true })).stdout}`);
      return r.stdout.startsWith("1/") || undefined;
    }, { timeoutMs: TIMEOUTS.settle * 5, intervalMs: TIMEOUTS.poll });
    const logs = (await kubectl(shop.k, ["logs", "-n", shop.namespace, "job/shop-write"])).stdout;
    expect(logs).toContain("wrote through shop-mysql-primary");
    expect(logs).toContain(shop.pod(0));
    expect(await shop.sql(0, "SELECT note FROM app.items WHERE id = 1")).toBe("written by the app");
  });
}
