// Metrics: every pod's exporter sidecar reports its own server up; on replicas the replication
// series are there, and stopping a replica's SQL thread turns its series to 0.
// Expects: the main release with metrics.enabled (the suite's base values), the client pod, at
// least 2 pods.
import { expect, it } from "vitest";
import { FLAVORS } from "../../../scripts/lib/flavors.js";
import { kubectl, waitFor } from "../../../scripts/lib/kube.js";
import { CHART, type E2e, TIMEOUTS } from "../context.js";

/** The exporter's page from HOST, fetched in the client pod. */
async function scrape(e: E2e, host: string): Promise<string> {
  const r = await kubectl(e.k, ["exec", "-n", e.namespace, "client", "--", "curl", "-sS", "--max-time", "10", `http://${host}:${CHART.metricsPort}/metrics`], { allowFailure: true });
  expect(r.exitCode, `scraping ${host}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The value of the first series named NAME (a regular expression source), or undefined. */
function value(page: string, name: string): string | undefined {
  return new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, "m").exec(page)?.[2];
}

// mysqld_exporter names the replication series after the status columns: MySQL 9.7 answers
// SHOW REPLICA STATUS (Replica_SQL_Running), MariaDB SHOW ALL SLAVES STATUS (Slave_SQL_Running).
const SQL_RUNNING = "mysql_slave_status_(?:replica|slave)_sql_running";
const IO_RUNNING = "mysql_slave_status_(?:replica|slave)_io_running";
const LAG = "mysql_slave_status_seconds_behind_(?:source|master)";

export function metrics(ctx: () => E2e) {
  it("every pod's exporter shows its own server up, and the metrics Service reaches them", async () => {
    const e = ctx();
    for (let i = 0; i < e.replicas; i++) {
      const page = await scrape(e, e.host(i));
      expect(value(page, "mysql_up"), e.pod(i)).toBe("1");
      expect(Number(value(page, "mysql_global_status_uptime"))).toBeGreaterThan(0);
    }
    expect(value(await scrape(e, `${e.sts}-metrics`), "mysql_up")).toBe("1");
  });

  it("replicas carry the replication threads and lag; the primary has none", async () => {
    const e = ctx();
    expect(value(await scrape(e, e.host(0)), SQL_RUNNING)).toBeUndefined();
    for (let i = 1; i < e.replicas; i++) {
      // A scrape whose replication collector timed out (a loaded node) lacks the series: the
      // promise is that they are there, so ask again until a page has them.
      let page = "";
      await waitFor(`${e.pod(i)}'s replication series`, async () => {
        page = await scrape(e, e.host(i));
        return value(page, SQL_RUNNING) !== undefined ? true : undefined;
      }, { timeoutMs: TIMEOUTS.settle, intervalMs: TIMEOUTS.poll });
      expect(value(page, SQL_RUNNING), e.pod(i)).toBe("1");
      expect(value(page, IO_RUNNING), e.pod(i)).toBe("1");
      expect(Number(value(page, LAG))).toBeGreaterThanOrEqual(0);
    }
  });

  it("stopping a replica's SQL thread turns its series to 0; starting it turns it back to 1", async () => {
    const e = ctx();
    const word = FLAVORS[e.flavor].replica;
    await e.sql(1, `STOP ${word} SQL_THREAD`);
    try {
      const page = await scrape(e, e.host(1));
      expect(value(page, SQL_RUNNING)).toBe("0");
      expect(value(page, IO_RUNNING)).toBe("1");
    } finally {
      await e.sql(1, `START ${word} SQL_THREAD`);
    }
    await waitFor("the SQL thread series back to 1", async () => (value(await scrape(e, e.host(1)), SQL_RUNNING) === "1" ? true : undefined), {
      timeoutMs: TIMEOUTS.settle,
      intervalMs: TIMEOUTS.poll,
    });
    await e.waitAllReady();
  });
}
