// The end-to-end suite for one flavor: install once into a fresh namespace, then the features in
// order, each a user-visible promise. Runs against the cluster of KUBECONFIG with the images of
// MYSQL_IMAGE / MARIADB_IMAGE (default: the locally built ones, loaded into kind).
import { afterAll, afterEach, beforeAll, describe } from "vitest";
import { enforceRestricted, kubectl } from "../../scripts/lib/kube.js";
import { exporterImageValues, type Flavor } from "../../scripts/lib/release.js";
import { printReport } from "../helpers/report.js";
import { E2e, SHARED_NODE } from "./context.js";
import { bootstrap, type Migration, prepareBootstrap } from "./features/bootstrap.js";
import { consistency } from "./features/consistency.js";
import { dependency, prepareDependency } from "./features/dependency.js";
import { existingClaim, prepareExistingClaim } from "./features/existing-claim.js";
import { durability } from "./features/durability.js";
import { metrics } from "./features/metrics.js";
import { extensions, prepareExtensions } from "./features/extensions.js";
import { networkPolicy } from "./features/network-policy.js";
import { pains } from "./features/pains.js";
import { recovery } from "./features/recovery.js";
import { replication } from "./features/replication.js";
import { scaling } from "./features/scaling.js";
import { prepareScenarios, type ScenarioResult, scenarioFile, scenarios } from "./features/scenarios.js";
import { tls } from "./features/tls.js";
import { prepareSecrets, type SecretReleases, secrets } from "./features/secrets.js";
import { upgrade } from "./features/upgrade.js";
import { prepareVerify, verify, type VerifyRuns } from "./features/verify.js";
import { prepareVersionUpgrade, versionUpgrades } from "./features/version-upgrades.js";

export function defineSuite(flavor: Flavor) {
  describe.sequential(`${flavor}: a replicated cluster from generated-chart/`, () => {
    let e: E2e;
    let secretReleases: Promise<SecretReleases>;
    let previousRelease: Promise<E2e>;
    // One flavor each (the node has 2 cores): MySQL installs the parent chart, MariaDB the
    // extensions scenario; both promises are about the chart's templates, not the flavor.
    let sideScenario: Promise<E2e>;
    // MySQL only (the clone plugin): a migration from a server outside any release.
    let migration: Promise<Migration>;
    // MariaDB's suite (the MySQL one has more side releases): pod 0 on a claim of the user's.
    let ownClaim: Promise<E2e>;
    // MariaDB's suite too: npm run verify, as a user runs it, beside the suite's releases.
    let verifyRuns: Promise<VerifyRuns>;
    // Every ci/ scenario, installed and proven; each suite runs one lane of them.
    let scenarioRuns: Promise<Map<string, ScenarioResult>>;
    const ctx = () => e;

    beforeAll(async () => {
      e = new E2e(flavor, `e2e-${flavor}-${Date.now().toString(36)}`);
      // The main release runs with egress limited too, so every feature shows it suffices (DNS,
      // the Kubernetes API, the release's own pods).
      // Installed from the chart's scenario file for its flavor (ci/01: the defaults; ci/03: MariaDB).
      e.valuesFiles = [scenarioFile(flavor === "mysql" ? "01-defaults-values.yaml" : "03-mariadb-values.yaml")];
      e.baseSet = { "networkPolicy.egress.enabled": true, "metrics.enabled": true, ...exporterImageValues(), ...SHARED_NODE };
      await kubectl(e.k, ["create", "namespace", e.namespace]);
      // Everything below (the chart's pods, helm test, the test's own client pods) must pass it.
      await enforceRestricted(e.k, e.namespace);
      const t0 = Date.now();
      // The Secret scenarios' own small releases install side by side with the main one.
      secretReleases = prepareSecrets(e);
      secretReleases.catch(() => undefined); // awaited (and reported) by the secrets feature
      // So does the release the version-upgrade feature upgrades.
      previousRelease = prepareVersionUpgrade(e);
      previousRelease.catch(() => undefined);
      sideScenario = flavor === "mysql" ? prepareDependency(e) : prepareExtensions(e);
      sideScenario.catch(() => undefined);
      if (flavor === "mysql") {
        migration = prepareBootstrap(e);
        migration.catch(() => undefined);
      } else {
        ownClaim = prepareExistingClaim(e);
        ownClaim.catch(() => undefined);
        verifyRuns = prepareVerify(e);
        verifyRuns.catch(() => undefined);
      }
      await e.upgrade();
      const { ms } = await e.waitAllReady().catch(async (err) => {
        await e.diagnoseAll();
        throw err;
      });
      e.record("install to all Ready (3 pods)", Date.now() - t0, { waitedMs: ms });
      // The scenario lane starts once the main release is Ready (its install is what every feature waits for).
      scenarioRuns = prepareScenarios(e, flavor);
      scenarioRuns.catch(() => undefined);
      await e.startClient();
    });

    afterEach(async ({ task }) => {
      if (task.result?.state === "fail") {
        // The failure itself now, not only in vitest's summary at the end of the run.
        console.log(`FAILED PROMISE: ${task.name}\n${task.result.errors?.map((err) => err.message).join("\n") ?? ""}`);
        // A scenario's or verify's failure carries its own release's evidence; the rest concern the main release.
        if (!/ci\/|npm run verify/.test(task.suite?.name ?? "")) await e.diagnoseAll();
      }
    });

    afterAll(async () => {
      printReport(e.suite);
      await e.deleteNamespace();
    });

    describe.sequential("install, roles, writes and reads", () => replication(ctx));
    describe.sequential("metrics", () => metrics(ctx));
    describe.sequential("passwords and Secrets", () => secrets(ctx, () => secretReleases));
    if (flavor === "mysql") describe.sequential("as an application chart's dependency", () => dependency(() => sideScenario));
    else describe.sequential("extension points and Service options", () => extensions(ctx, () => sideScenario));
    if (flavor === "mysql") describe.sequential("migrating an existing MySQL (bootstrap.cloneFrom)", () => bootstrap(() => migration));
    else describe.sequential("pod 0 on an existing claim (persistence.existingClaim)", () => existingClaim(() => ownClaim));
    describe.sequential("scaling", () => scaling(ctx));
    describe.sequential("recovery from pod deletion", () => recovery(ctx));
    describe.sequential("durability: crashes and lost volumes", () => durability(ctx));
    describe.sequential("what users of other charts complain about", () => pains(ctx));
    describe.sequential("helm upgrade", () => upgrade(ctx));
    describe.sequential("upgrades across chart versions and LTS lines", () => versionUpgrades(flavor, () => previousRelease));
    describe.sequential("TLS and members-only accounts", () => tls(ctx, flavor));
    describe.sequential("network policy", () => networkPolicy(ctx, flavor));
    describe.sequential("consistency", () => consistency(ctx));
    // Last: the releases of verify and of the scenario lane install and prove themselves beside
    // everything above, so their results are in by now, or the suite waits for them here only.
    if (flavor === "mariadb") describe.sequential("npm run verify: a user's values proven on the cluster", () => verify(() => verifyRuns));
    describe.sequential(`the chart's ci/ scenarios, installed and proven (${flavor} lane)`, () => scenarios(flavor, () => scenarioRuns));
  });
}
