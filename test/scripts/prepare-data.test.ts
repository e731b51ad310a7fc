// prepare-data.sh decides whether a pod keeps, initialises or clones its data, and never starts
// from a half-finished attempt. Server-touching functions are replaced.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, sandbox } from "../helpers/pod-scripts.js";

describe("prepare-data.sh", () => {
  const stubs = `
    flavor_initialize_datadir() { echo "initialize $1" >>"$RUN_DIR/calls"; mkdir -p "$1/mysql"; }
    start_temp_server() { echo "start $1" >>"$RUN_DIR/calls"; }
    wait_for_server() { :; }
    stop_temp_server() { echo "stop" >>"$RUN_DIR/calls"; }
    sql() { cat >>"$RUN_DIR/sql"; }
  `;
  const calls = (s: ReturnType<typeof sandbox>) => (existsSync(join(s.run, "calls")) ? readFileSync(join(s.run, "calls"), "utf8") : "");

  it("keeps an existing data directory untouched (restart, or a volume reused after scale-in)", async () => {
    const s = sandbox("mysql", "db-2");
    mkdirSync(join(s.dataRoot, "data/mysql"), { recursive: true });
    writeFileSync(join(s.dataRoot, "data/keep.me"), "x");
    const r = await runBash(s, "prepare-data.sh", `${stubs}\nflavor_clone_into() { echo clone >>"$RUN_DIR/calls"; }\nmain`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/exists: keeping it/);
    expect(calls(s)).toBe("");
    expect(readFileSync(join(s.dataRoot, "data/keep.me"), "utf8")).toBe("x");
  });

  it("initialises pod 0 once: accounts and init SQL in a staging directory, then renamed into place", async () => {
    const s = sandbox("mysql", "db-0");
    writeFileSync(join(s.confSrc, "init.sql"), "CREATE DATABASE seeded;\n");
    const sqlStub = `sql() { cat >>"$RUN_DIR/sql"; }`;
    const r = await runBash(s, "prepare-data.sh", `${stubs}\n${sqlStub}\nmain`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(calls(s)).toMatch(/^initialize .*data\.staging\nstart .*data\.staging\nstop\n$/);
    const sql = readFileSync(join(s.run, "sql"), "utf8");
    expect(sql).toContain("CREATE USER 'replicator'@'%'");
    expect(sql).toContain("CREATE DATABASE seeded;");
    expect(existsSync(join(s.dataRoot, "data/mysql"))).toBe(true);
    expect(existsSync(join(s.dataRoot, "data.staging"))).toBe(false);
  });

  it("clones pod N-1 into a new replica (pod 1 clones the primary)", async () => {
    for (const [pod, donor] of [["db-1", "db-0.db"], ["db-4", "db-3.db"]]) {
      const s = sandbox("mysql", pod);
      const r = await runBash(s, "prepare-data.sh", `flavor_clone_into() { echo "clone $2 into $1" >>"$RUN_DIR/calls"; mkdir -p "$1/mysql"; }\nmain`);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(calls(s)).toBe(`clone ${donor} into ${s.dataRoot}/data.staging\n`);
      expect(existsSync(join(s.dataRoot, "data/mysql"))).toBe(true);
    }
  });

  it("discards a half-finished attempt before starting again, never starting from it", async () => {
    const s = sandbox("mariadb", "db-1");
    mkdirSync(join(s.dataRoot, "data.staging"), { recursive: true });
    writeFileSync(join(s.dataRoot, "data.staging/partial.ibd"), "half");
    const r = await runBash(s, "prepare-data.sh", `flavor_clone_into() { if [[ -e "$1/partial.ibd" ]]; then echo present; else echo gone; fi >>"$RUN_DIR/calls"; mkdir -p "$1/mysql"; }\nmain`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/discarding a half-finished attempt/);
    expect(calls(s)).toBe("gone\n");
    expect(existsSync(join(s.dataRoot, "data/partial.ibd"))).toBe(false);
  });

  it("retries a failed clone and discards each failed attempt", async () => {
    const s = sandbox("mysql", "db-1");
    // Each attempt leaves junk behind; the next attempt must not find it.
    const body = `flavor_clone_into() {
      n=$(( $(cat "$RUN_DIR/n" 2>/dev/null || echo 0) + 1 )); echo $n >"$RUN_DIR/n"
      if [[ -e "$1/junk" ]]; then echo "leftover before attempt $n" >>"$RUN_DIR/calls"; fi
      mkdir -p "$1"; echo junk >"$1/junk"
      if (( n < 3 )); then return 1; fi
      mkdir -p "$1/mysql"
    }
    main`;
    const r = await runBash(s, "prepare-data.sh", body);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(s.run, "n"), "utf8")).toBe("3\n");
    expect(existsSync(join(s.run, "calls")) ? readFileSync(join(s.run, "calls"), "utf8") : "").toBe("");
    expect(r.stderr).toMatch(/clone attempt 3\/3/);
  });

  it("gives up after the last attempt without creating a data directory", async () => {
    const s = sandbox("mysql", "db-1");
    const r = await runBash(s, "prepare-data.sh", `flavor_clone_into() { mkdir -p "$1/mysql"; return 1; }\nmain`);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/could not clone from db-0\.db after 3 attempts/);
    expect(existsSync(join(s.dataRoot, "data"))).toBe(false);
    expect(existsSync(join(s.dataRoot, "data.staging"))).toBe(false);
  });
});
