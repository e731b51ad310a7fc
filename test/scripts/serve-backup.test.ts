// serve-backup.sh (MariaDB) serves one backup per connection: only to a peer that answers the
// challenge, and it ends cleanly (exit 0, its option file removed), so socat logs no failure.
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, sandbox } from "../helpers/pod-scripts.js";

describe("serve-backup.sh", () => {
  const stubs = `stream_answer() { echo expected-answer; }\nmariadb-backup() { echo "backup with $*" >&2; echo STREAM; }`;

  it("streams the backup to a peer that answers the challenge, then exits 0 and removes its option file", async () => {
    const s = sandbox("mariadb", "db-1");
    writeFileSync(join(s.confDir, "my.cnf"), "[mysqld]\n");
    const r = await runBash(s, "serve-backup.sh", `${stubs}\necho expected-answer | (serve_one) >"$RUN_DIR/out"; echo "exit=$?"; cat "$RUN_DIR/out"`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^exit=0\n[0-9a-f]{32}\nSTREAM$/);
    expect(r.stderr).toMatch(/backup streamed to/);
    expect(readdirSync(s.run).filter((f) => f.startsWith("backup-"))).toEqual([]);
  });

  it("streams one backup at a time: a second peer waits for the first stream to end", async () => {
    const s = sandbox("mariadb", "db-1");
    writeFileSync(join(s.confDir, "my.cnf"), "[mysqld]\n");
    const slow = `stream_answer() { echo expected-answer; }
mariadb-backup() { echo "begin $BASHPID" >>"$RUN_DIR/order"; sleep 1; echo "end $BASHPID" >>"$RUN_DIR/order"; echo STREAM; }`;
    const r = await runBash(
      s,
      "serve-backup.sh",
      `${slow}
      (echo expected-answer | SOCAT_PEERADDR=peer-a serve_one >"$RUN_DIR/a") & first=$!
      sleep 0.3
      (echo expected-answer | SOCAT_PEERADDR=peer-b serve_one >"$RUN_DIR/b") & second=$!
      wait "$first"; echo "a=$?"; wait "$second"; echo "b=$?"
      tail -n 1 "$RUN_DIR/a" "$RUN_DIR/b"; sed 's/ .*//' "$RUN_DIR/order"`,
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/a=0\nb=0\n/);
    expect(r.stdout.match(/STREAM/g)?.length).toBe(2);
    // Never two streams at once: each begin is followed by its end before the next begin.
    expect(r.stdout.trim().split("\n").slice(-4)).toEqual(["begin", "end", "begin", "end"]);
    expect(r.stderr).toMatch(/peer-b waits for the backup in progress/);
  });

  it("refuses a peer with a wrong answer, streaming nothing", async () => {
    const s = sandbox("mariadb", "db-1");
    const r = await runBash(s, "serve-backup.sh", `${stubs}\necho wrong | (serve_one) >"$RUN_DIR/out" || echo "exit=$?"; cat "$RUN_DIR/out"`);
    expect(r.stdout).toMatch(/^exit=1\n[0-9a-f]{32}$/);
    expect(r.stderr).toMatch(/refused .*: wrong answer to the challenge/);
  });
});
