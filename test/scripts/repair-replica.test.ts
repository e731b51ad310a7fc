// repair-replica.sh: a replica that can never continue re-clones itself from the primary, only
// when the same reason is seen twice, and only reports it with recovery.autoReclone=false.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { apiCalls, runBash, sandbox } from "../helpers/pod-scripts.js";

// The sidecar's script and its sources, as replication-sidecar.sh loads them.
const sources = `. "$SCRIPTS/kube-api.sh"; . "$SCRIPTS/repair-replica.sh"`;

describe("repair-replica.sh", () => {
  const run = (s: ReturnType<typeof sandbox>, body: string, env: Record<string, string> = {}) =>
    runBash(s, "replication-sidecar.sh", `SCRIPTS=${s.scripts}\n${sources}\n${body}`, env);
  const recloneStub = `reclone_self() { echo "reclone: $1" >>"$RUN_DIR/calls"; }`;
  const calls = (s: ReturnType<typeof sandbox>) => (existsSync(join(s.run, "calls")) ? readFileSync(join(s.run, "calls"), "utf8") : "");

  it("MySQL: a primary that gave up on the replica (13114, purged GTIDs) re-clones it on the second check, not the first", async () => {
    const s = sandbox("mysql", "db-2");
    const body = `${recloneStub}
      status_fields() { printf '13114\\tGot fatal error 1236: the source has purged binary logs containing GTIDs that the replica requires\\n'; }
      check_replica_health; echo "after one check: $(cat "$RUN_DIR/calls" 2>/dev/null)"
      check_replica_health`;
    const r = await run(s, body);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("after one check: ");
    expect(calls(s)).toBe("reclone: the primary refuses to send what this replica needs (error 13114: Got fatal error 1236: the source has purged binary logs containing GTIDs that the replica requires)\n");
  });

  it("a check that passes in between clears the suspicion", async () => {
    const s = sandbox("mariadb", "db-1");
    const body = `${recloneStub}
      status_fields() { if [[ -e "$RUN_DIR/ok" ]]; then printf '0\\t\\n'; else printf '1236\\tCould not find GTID state requested by slave in any binlog files\\n'; fi; }
      check_replica_health; touch "$RUN_DIR/ok"; check_replica_health; rm "$RUN_DIR/ok"; check_replica_health`;
    const r = await run(s, body);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(calls(s)).toBe("");
  });

  it("a connection error (the primary restarting) is never a reason", async () => {
    for (const flavor of ["mysql", "mariadb"] as const) {
      const s = sandbox(flavor, "db-1");
      const r = await run(s, `${recloneStub}\nstatus_fields() { printf '2003\\tCan not connect\\n'; }\nflavor_gtid_state() { return 1; }\ncheck_replica_health; check_replica_health; check_replica_health`);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(calls(s)).toBe("");
    }
  });

  it("MySQL: transactions the primary lacks are a divergence, named by their GTIDs", async () => {
    const s = sandbox("mysql", "db-1");
    const body = `${recloneStub}
      status_fields() { printf '0\\t\\n'; }
      flavor_gtid_state() { case $1 in *primary-root.cnf) echo "u:1-10" ;; *) echo "u:1-10,v:1-2" ;; esac; }
      sql_value() { echo "$2" >>"$RUN_DIR/queries"; echo "v:1-2"; }
      check_replica_health; check_replica_health`;
    const r = await run(s, body);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(calls(s)).toBe("reclone: its history diverged from the primary's: errant transactions v:1-2\n");
    expect(readFileSync(join(s.run, "queries"), "utf8")).toContain("SELECT GTID_SUBTRACT('u:1-10,v:1-2', 'u:1-10')");
    expect(readFileSync(join(s.run, "primary-root.cnf"), "utf8")).toContain("host=db-0.db.ns");
  });

  it("MySQL: compares histories with the primary (a network login) at the first check, then once every GTID_COMPARE_EVERY checks, not at each", async () => {
    const s = sandbox("mysql", "db-1");
    const body = `${recloneStub}
      status_fields() { printf '0\\t\\n'; }
      flavor_gtid_state() { case $1 in *primary-root.cnf) echo primary >>"$RUN_DIR/compared"; echo "u:1-10" ;; *) echo "u:1-10" ;; esac; }
      sql_value() { echo ""; }
      for i in 1 2 3 4 5 6 7 8 9 10 11 12 13; do check_replica_health; done`;
    const r = await run(s, body, { GTID_COMPARE_EVERY: "6" });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(s.run, "compared"), "utf8")).toBe("primary\n".repeat(3));
    expect(calls(s)).toBe("");
  });

  it("with recovery.autoReclone=false only reports it, once, in a ReplicaBroken Event", async () => {
    const s = sandbox("mariadb", "db-1");
    const body = `${recloneStub}
      status_fields() { printf '1236\\tCould not find GTID state requested by slave in any binlog files\\n'; }
      check_replica_health; check_replica_health; check_replica_health; check_replica_health`;
    const r = await run(s, body, { AUTO_RECLONE: "false" });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(calls(s)).toBe("");
    const events = apiCalls(s).split("\n").filter((l) => l.startsWith("POST"));
    expect(events).toHaveLength(1);
    expect(events[0]).toContain('"reason":"ReplicaBroken"');
    expect(r.stderr).toMatch(/recovery\.autoReclone=false: not re-cloning/);
  });

  it("re-cloning: marks the volume, stops the server, swaps in a copy of the primary, clears the mark and replicates again", async () => {
    const s = sandbox("mysql", "db-2");
    mkdirSync(join(s.dataRoot, "data/mysql"), { recursive: true });
    writeFileSync(join(s.dataRoot, "data/old.ibd"), "diverged");
    const body = `ADMIN_BIN=fake_admin
      fake_admin() { echo "admin $*" >>"$RUN_DIR/calls"; [[ -e "$RECLONE_MARKER" ]] && echo "marker set before shutdown" >>"$RUN_DIR/calls"; }
      sql() { cat >/dev/null; return 1; }
      flavor_clone_into() { echo "clone $2 into $1" >>"$RUN_DIR/calls"; mkdir -p "$1/mysql"; echo new >"$1/new.ibd"; }
      wait_for_server() { return 0; }
      configure_replication() { echo "configure replication" >>"$RUN_DIR/calls"; }
      reclone_self "diverged"`;
    const r = await run(s, body);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(calls(s)).toBe(`admin --defaults-extra-file=${s.run}/client-root.cnf shutdown\nmarker set before shutdown\nclone db-0.db.ns into ${s.dataRoot}/data.staging\nconfigure replication\n`);
    expect(existsSync(join(s.dataRoot, "data/old.ibd"))).toBe(false);
    expect(readFileSync(join(s.dataRoot, "data/new.ibd"), "utf8")).toBe("new\n");
    expect(existsSync(join(s.dataRoot, "reclone.requested"))).toBe(false);
    const reasons = [...apiCalls(s).matchAll(/"reason":"(\w+)"/g)].map((m) => m[1]);
    expect(reasons).toEqual(["RecloningReplica", "ReplicaRecloned"]);
  });

  it("a sidecar restarted in the middle of a re-clone finishes it before anything else", async () => {
    const s = sandbox("mariadb", "db-1");
    writeFileSync(join(s.dataRoot, "reclone.requested"), "purged\n");
    const body = `${recloneStub}
      wait_for_server() { echo "waited for the server" >>"$RUN_DIR/calls"; return 0; }
      flavor_upgrade_system_tables() { :; }
      configure_replication() { exit 0; }
      main`;
    const r = await run(s, body);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(calls(s)).toBe("reclone: purged\nwaited for the server\n");
  });
});
