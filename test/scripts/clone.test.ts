// The MariaDB clone (clone.sh): what a received backup says about its completeness and position,
// and the challenge that keeps the clone password off the network.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, sandbox } from "../helpers/pod-scripts.js";

describe("MariaDB backup metadata", () => {
  const backup = (files: Record<string, string>) => {
    const s = sandbox("mariadb");
    const dir = join(s.root, "backup");
    mkdirSync(dir, { recursive: true });
    for (const [k, v] of Object.entries(files)) writeFileSync(join(dir, k), v);
    return { s, dir };
  };

  it("reads the donor replica's position from 11.x's mariadb_backup_slave_info", async () => {
    const { s, dir } = backup({
      mariadb_backup_slave_info: "SET GLOBAL gtid_slave_pos = '0-100-42';\nCHANGE MASTER TO master_use_gtid = slave_pos;\n",
      mariadb_backup_binlog_info: "mysql-bin.000003\t812\t0-101-7\n",
    });
    expect((await runBash(s, null, `backup_gtid ${dir}`)).stdout).toBe("0-100-42");
  });

  it("reads the primary's own GTID from 10.11's xtrabackup_binlog_info when there is no slave_info", async () => {
    const { s, dir } = backup({ xtrabackup_binlog_info: "mysql-bin.000001\t2354\t0-100-12\n" });
    expect((await runBash(s, null, `backup_gtid ${dir}`)).stdout).toBe("0-100-12");
  });

  it("reads a multi-domain GTID list", async () => {
    const { s, dir } = backup({ mariadb_backup_binlog_info: "mysql-bin.000001\t2354\t0-100-12,1-100-3\n" });
    expect((await runBash(s, null, `backup_gtid ${dir}`)).stdout).toBe("0-100-12,1-100-3");
  });

  it("calls a backup complete only with its final info file and full checkpoints, in either naming", async () => {
    const full = "backup_type = full-backuped\nfrom_lsn = 0\n";
    for (const prefix of ["mariadb_backup_", "xtrabackup_"]) {
      const ok = backup({ [`${prefix}info`]: "uuid = x\n", [`${prefix}checkpoints`]: full });
      expect((await runBash(ok.s, null, `backup_complete ${ok.dir}`)).exitCode).toBe(0);
    }
    const cut = backup({ mariadb_backup_checkpoints: full });
    expect((await runBash(cut.s, null, `backup_complete ${cut.dir}`)).exitCode).not.toBe(0);
    const partial = backup({ mariadb_backup_info: "x\n", mariadb_backup_checkpoints: "backup_type = incremental\n" });
    expect((await runBash(partial.s, null, `backup_complete ${partial.dir}`)).exitCode).not.toBe(0);
  });

  it("answers the backup server's challenge without sending the secret", async () => {
    const s = sandbox("mariadb");
    const a = (await runBash(s, null, "stream_answer 00112233445566778899aabbccddeeff s3cret")).stdout;
        expect(a).toBe(createHash("sha256").update("00112233445566778899aabbccddeeff:s3cret").digest("hex"));
    expect(a).not.toContain("s3cret");
  });
});
