// The demo's second half (scripts/demo.sh does the set-up): install the chart as a user would,
// wait with progress, write on the primary, read it from every replica, and print a live table.
import { connect, podScript, podSql, waitAllReady, waitFor } from "./lib/kube.js";
import { FLAVORS } from "./lib/flavors.js";
import { podTable } from "./lib/proof.js";
import { type Flavor, upgradeInstall } from "./lib/release.js";
import { toolPath } from "./lib/tools.js";

const flavor = (process.env.FLAVOR ?? "mysql") as Flavor;
const namespace = process.env.DEMO_NAMESPACE ?? "mysql-demo";
const release = "mysql";
const replicas = Number(process.env.REPLICAS ?? 3);
const t0 = Date.now();
const step = (msg: string) => console.log(`[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] ${msg}`);

async function main() {
  const k = connect();
  step(`helm upgrade --install ${release} ./generated-chart (flavor=${flavor}, replicas=${replicas}) in namespace ${namespace}`);
  await upgradeInstall({ release, namespace, flavor, set: { replicas }, kubeconfig: k.kubeconfig });
  step("waiting for every pod to be Ready (pod 0 initialises; the replicas, started beside it, clone it once it is Ready)");
  const { ms } = await waitAllReady(k, namespace, release, replicas);
  step(`all ${replicas} pods Ready after ${Math.round(ms / 1000)}s`);
  const container = flavor;
  const token = `hello from the demo at ${new Date().toISOString()}`;
  step(`writing a row on the primary ${release}-0.${release}`);
  await podSql(
    k,
    namespace,
    `${release}-0`,
    container,
    `CREATE DATABASE IF NOT EXISTS demo; CREATE TABLE IF NOT EXISTS demo.greetings (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(128)); INSERT INTO demo.greetings (msg) VALUES ('${token}');`,
  );
  for (let i = 1; i < replicas; i++) {
    const { ms: took } = await waitFor(`the row on ${release}-${i}`, async () => {
      const r = await podSql(k, namespace, `${release}-${i}`, container, `SELECT COUNT(*) FROM demo.greetings WHERE msg = '${token}'`, { allowFailure: true });
      return r.out === "1" ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    step(`read it back on replica ${release}-${i} (${took} ms)`);
  }
  // Over the network, to the replica's stable name, even as root (root over the network is for the
  // release's own pods, and this runs in one, presenting the release's certificate).
  const refused = await podScript(
    k,
    namespace,
    `${release}-1`,
    container,
    `pw=$(read_secret mysql-root-password); write_member_cnf /tmp/tcp.cnf root "$pw" ${release}-1.${release}.${namespace}; sql /tmp/tcp.cnf`,
    "INSERT INTO demo.greetings (msg) VALUES ('sent to a replica')",
  );
  const why = refused.stderr.split("\n").find((l) => /ERROR/.test(l)) ?? refused.stderr.trim();
  // Refused for being read-only, not for any other reason (a failed login would also refuse it).
  if (refused.exitCode === 0) throw new Error("a replica accepted a write");
  if (!/read.only|1290/i.test(why)) throw new Error(`the write to a replica failed, but not as read-only: ${why}`);
  step(`a write sent to replica ${release}-1.${release} is refused: ${why}`);

  console.log("");
  console.log(await podTable({ k, namespace, release, sts: release, flavor, replicas, helmTest: false }));
  const kubectl = toolPath("kubectl");
  const helm = toolPath("helm");
  console.log(`
Connect (the project's own kubectl and helm, usable as printed in a new shell):
  export KUBECONFIG=${k.kubeconfig}
  ${kubectl} -n ${namespace} exec -it ${release}-0 -c ${container} -- ${FLAVORS[flavor].client} -uroot -p   # primary: writes
  # reads: ${release}-read.${namespace}.svc:3306; password:
  ${kubectl} -n ${namespace} get secret ${release} -o jsonpath='{.data.mysql-root-password}' | base64 -d; echo
Tear down:
  ${helm} --kubeconfig ${k.kubeconfig} -n ${namespace} uninstall ${release}; ${kubectl} --kubeconfig ${k.kubeconfig} delete namespace ${namespace}
  npm run cluster:down
Done in ${Math.round((Date.now() - t0) / 1000)}s.`);
}

main().catch((e) => {
  console.error(`\nDEMO FAILED: ${(e as Error).message}`);
  process.exitCode = 1;
});
