// At the end: every table on every pod has the primary's checksum.
// Expects: the release installed (any size); checks every table the earlier features wrote, and one of its own.
import { expect, it } from "vitest";
import { FLAVORS } from "../../../scripts/lib/flavors.js";
import type { E2e } from "../context.js";

export function consistency(ctx: () => E2e) {
  it("each table's checksum on every pod equals the primary's", async () => {
    const e = ctx();
    await e.sql(0, "CREATE DATABASE IF NOT EXISTS appdb; CREATE TABLE IF NOT EXISTS appdb.consistency (id INT PRIMARY KEY, v VARCHAR(32)); REPLACE INTO appdb.consistency VALUES (1, 'one'), (2, 'two');");
    const tables = (await e.sql(0, "SELECT CONCAT(table_schema, '.', table_name) FROM information_schema.tables WHERE table_schema IN ('appdb', 'mysql_chart_test') ORDER BY 1")).split("\n");
    expect(tables).toContain("appdb.consistency");
    const q = `CHECKSUM TABLE ${tables.join(", ")}`;
    const primary = await e.sql(0, q);
    const target = await e.sql(0, FLAVORS[e.flavor].gtidQuery);
    for (let i = 1; i < e.replicas; i++) {
      await e.waitSql(i, FLAVORS[e.flavor].hasGtidsQuery(target), "1");
      expect(await e.sql(i, q), `checksums on ${e.pod(i)}`).toBe(primary);
    }
  });
}
