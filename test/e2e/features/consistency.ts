// At the end: every table on every pod has the primary's checksum.
import { expect, it } from "vitest";
import type { E2e } from "../context.js";

export function consistency(ctx: () => E2e) {
  it("each table's checksum on every pod equals the primary's", async () => {
    const e = ctx();
    const tables = (await e.sql(0, "SELECT CONCAT(table_schema, '.', table_name) FROM information_schema.tables WHERE table_schema IN ('appdb', 'mysql_chart_test') ORDER BY 1")).split("\n");
    expect(tables.length).toBeGreaterThan(2);
    const q = `CHECKSUM TABLE ${tables.join(", ")}`;
    const primary = await e.sql(0, q);
    const gtid = e.flavor === "mysql" ? "SELECT @@gtid_executed" : "SELECT @@gtid_binlog_pos";
    const target = await e.sql(0, gtid);
    for (let i = 1; i < e.replicas; i++) {
      if (e.flavor === "mysql") await e.waitSql(i, `SELECT GTID_SUBSET('${target.replace(/\\n/g, "")}', @@gtid_executed)`, "1");
      else await e.waitSql(i, "SELECT @@gtid_slave_pos", target);
      expect(await e.sql(i, q), `checksums on ${e.pod(i)}`).toBe(primary);
    }
  });
}
