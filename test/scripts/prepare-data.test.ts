// prepare-data.sh decides whether a pod keeps, initialises or clones its data, and never starts
// from a half-finished attempt. Server-touching functions are replaced.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { apiCalls, claimsHoldingData, podsReady, runBash, sandbox } from "../helpers/pod-scripts.js";

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

  it("a replica with data labels its own claim as holding data (how pod 0 later tells a lost volume from a new installation)", async () => {
    const s = sandbox("mysql", "db-2");
    mkdirSync(join(s.dataRoot, "data/mysql"), { recursive: true });
    const r = await runBash(s, "prepare-data.sh", "main");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(apiCalls(s)).toBe('PATCH https://api.test:443/api/v1/namespaces/ns/persistentvolumeclaims/data-db-2 {"metadata":{"labels":{"mysql-chart.io/holds-data":"true"}}}\n');
  });

  it("a replica whose claim cannot be labelled fails, naming the claim and the permission", async () => {
    const s = sandbox("mysql", "db-1");
    mkdirSync(join(s.dataRoot, "data/mysql"), { recursive: true });
    writeFileSync(join(s.root, "api/status"), "403");
    const r = await runBash(s, "prepare-data.sh", "sleep() { :; }\nmain");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/refused PATCH .* \(HTTP 403\)/);
    expect(r.stderr).toMatch(/cannot label claim data-db-1 through the Kubernetes API \(ServiceAccount, rbac.create\)/);
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
    expect(apiCalls(s)).toMatch(/^GET https:\/\/api\.test:443\/api\/v1\/namespaces\/ns\/persistentvolumeclaims\?labelSelector=mysql-chart\.io%2Fholds-data%3Dtrue $/m);
  });

  it("MySQL without init SQL: pod 0's accounts are created by the initialisation itself (--init-file), with no temporary server, and the SQL file is removed", async () => {
    const s = sandbox("mysql", "db-0");
    const init = `flavor_initialize_datadir() { echo "initialize $1" >>"$RUN_DIR/calls"; cat "$2" >"$RUN_DIR/sql"; mkdir -p "$1/mysql"; }`;
    const r = await runBash(s, "prepare-data.sh", `${stubs}\n${init}\nmain`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(calls(s)).toBe(`initialize ${s.dataRoot}/data.staging\n`);
    expect(readFileSync(join(s.run, "sql"), "utf8")).toContain("CREATE USER 'replicator'@'%'");
    expect(existsSync(join(s.run, "init-accounts.sql"))).toBe(false);
    expect(existsSync(join(s.dataRoot, "data/mysql"))).toBe(true);
  });

  // The clone, and MySQL's early readying of its target (tested on its own below), replaced.
  const noPrepare = "flavor_prepare_clone_target() { :; }";
  const cloneStub = `flavor_clone_into() { echo "clone $2 into $1" >>"$RUN_DIR/calls"; mkdir -p "$1/mysql"; }\n${noPrepare}`;

  it("clones pod N-1 into a new replica when it is Ready (pod 1 clones the primary)", async () => {
    for (const [pod, donor] of [["db-1", "db-0.db.ns"], ["db-4", "db-3.db.ns"]]) {
      const s = sandbox("mysql", pod);
      podsReady(s, ["db-0", "db-1", "db-2", "db-3"]);
      const r = await runBash(s, "prepare-data.sh", `${cloneStub}\nmain`);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(calls(s)).toBe(`clone ${donor} into ${s.dataRoot}/data.staging\n`);
      expect(existsSync(join(s.dataRoot, "data/mysql"))).toBe(true);
    }
  });

  it("pods started side by side: a replica whose previous pod is not Ready clones another Ready replica, not the one the previous pod takes, the primary last, never a pod being deleted", async () => {
    const donorOf = async (ready: string[], terminating: string[] = []) => {
      const s = sandbox("mysql", "db-4");
      podsReady(s, ready, terminating);
      const r = await runBash(s, "prepare-data.sh", `${cloneStub}\nmain`);
      expect(r.exitCode, r.stderr).toBe(0);
      return calls(s).split(" ")[1];
    };
    expect(await donorOf(["db-0", "db-2"])).toBe("db-2.db.ns");
    expect(await donorOf(["db-0", "db-1"])).toBe("db-1.db.ns");
    // Pod 3 starting beside it takes pod 2: pod 4 copies pod 1, so the two copies run in parallel.
    expect(await donorOf(["db-0", "db-1", "db-2"])).toBe("db-1.db.ns");
    expect(await donorOf(["db-0"])).toBe("db-0.db.ns");
    expect(await donorOf(["db-0", "db-3", "db-2"], ["db-3"])).toBe("db-2.db.ns");
  });

  it("waits for a Ready donor instead of cloning one that is not (a new installation: the primary still initialising)", async () => {
    const s = sandbox("mysql", "db-2");
    // The primary becomes Ready after the third poll.
    const sleepStub = `sleep() { n=$(( $(cat "$RUN_DIR/polls" 2>/dev/null || echo 0) + 1 )); echo $n >"$RUN_DIR/polls"; (( n < 3 )) || echo db-0 >"$FAKE_API_DIR/ready"; }`;
    const r = await runBash(s, "prepare-data.sh", `${cloneStub}\n${sleepStub}\nmain`, { FAKE_API_DIR: s.api.state });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(s.run, "polls"), "utf8")).toBe("3\n");
    expect(calls(s)).toBe(`clone db-0.db.ns into ${s.dataRoot}/data.staging\n`);
    expect(r.stderr).toMatch(/donor: db-0\.db\.ns \(Ready; chosen among 1 0 after/);
  });

  it("readies the flavor's clone target (MySQL: the empty instance) before waiting for a donor, so the clone starts once one is Ready", async () => {
    const s = sandbox("mysql", "db-1");
    const sleepStub = `sleep() { echo "wait for donor" >>"$RUN_DIR/calls"; echo db-0 >"$FAKE_API_DIR/ready"; }`;
    const prepare = `flavor_prepare_clone_target() { echo "prepare" >>"$RUN_DIR/calls"; }`;
    const r = await runBash(s, "prepare-data.sh", `${cloneStub}\n${sleepStub}\n${prepare}\nmain`, { FAKE_API_DIR: s.api.state });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(calls(s)).toBe(`prepare\nwait for donor\nclone db-0.db.ns into ${s.dataRoot}/data.staging\n`);
  });

  it("without the API's answer about pods (no permission), clones the previous pod as under OrderedReady", async () => {
    const s = sandbox("mysql", "db-4");
    writeFileSync(join(s.root, "api/status"), "403");
    const r = await runBash(s, "prepare-data.sh", "choose_donor 4");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("3");
    expect(r.stderr).toMatch(/cannot ask the Kubernetes API which pods are Ready: cloning the previous pod/);
  });

  it("discards a half-finished attempt before starting again, never starting from it", async () => {
    const s = sandbox("mariadb", "db-1");
    podsReady(s, ["db-0"]);
    mkdirSync(join(s.dataRoot, "data.staging"), { recursive: true });
    writeFileSync(join(s.dataRoot, "data.staging/partial.ibd"), "half");
    // MySQL's empty recipient instance of the interrupted attempt, too.
    mkdirSync(join(s.dataRoot, "clone-recipient/mysql"), { recursive: true });
    const r = await runBash(s, "prepare-data.sh", `flavor_clone_into() { for f in "$1/partial.ibd" "$CLONE_RECIPIENT_DIR"; do if [[ -e "$f" ]]; then echo present; else echo gone; fi; done >>"$RUN_DIR/calls"; mkdir -p "$1/mysql"; }\nmain`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/discarding a half-finished attempt/);
    expect(calls(s)).toBe("gone\ngone\n");
    expect(existsSync(join(s.dataRoot, "data/partial.ibd"))).toBe(false);
  });

  it("retries a failed clone and discards each failed attempt", async () => {
    const s = sandbox("mysql", "db-1");
    podsReady(s, ["db-0"]);
    // Each attempt leaves junk behind; the next attempt must not find it.
    const body = `flavor_clone_into() {
      n=$(( $(cat "$RUN_DIR/n" 2>/dev/null || echo 0) + 1 )); echo $n >"$RUN_DIR/n"
      if [[ -e "$1/junk" ]]; then echo "leftover before attempt $n" >>"$RUN_DIR/calls"; fi
      mkdir -p "$1"; echo junk >"$1/junk"
      if (( n < 3 )); then return 1; fi
      mkdir -p "$1/mysql"
    }
    ${noPrepare}
    main`;
    const r = await runBash(s, "prepare-data.sh", body);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(s.run, "n"), "utf8")).toBe("3\n");
    expect(existsSync(join(s.run, "calls")) ? readFileSync(join(s.run, "calls"), "utf8") : "").toBe("");
    expect(r.stderr).toMatch(/clone attempt 3\/3/);
  });

  it("a donor busy with another clone (MySQL serves one at a time) is asked again every second, without using up an attempt or discarding the staging directory", async () => {
    const s = sandbox("mysql", "db-2");
    podsReady(s, ["db-0"]);
    // Busy four times (more than CLONE_ATTEMPTS), then the clone goes through on what the first call readied.
    const body = `flavor_clone_into() {
      n=$(( $(cat "$RUN_DIR/n" 2>/dev/null || echo 0) + 1 )); echo $n >"$RUN_DIR/n"
      if (( n == 1 )); then mkdir -p "$1"; echo ready >"$1/target"; fi
      if (( n <= 4 )); then return 2; fi
      [[ -e "$1/target" ]] || echo "target discarded" >>"$RUN_DIR/calls"
      mkdir -p "$1/mysql"
    }
    sleep() { echo "sleep $1" >>"$RUN_DIR/sleeps"; }
    ${noPrepare}
    main`;
    const r = await runBash(s, "prepare-data.sh", body);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(s.run, "n"), "utf8")).toBe("5\n");
    expect(calls(s)).toBe("");
    expect(readFileSync(join(s.run, "sleeps"), "utf8")).toBe("sleep 1\n".repeat(4));
    expect(r.stderr).toMatch(/donor db-0\.db\.ns is busy with another copy; asking again every second/);
    expect(r.stderr.match(/clone attempt/g)).toHaveLength(1);
  });

  it("gives up after the last attempt without creating a data directory", async () => {
    const s = sandbox("mysql", "db-1");
    podsReady(s, ["db-0"]);
    const r = await runBash(s, "prepare-data.sh", `flavor_clone_into() { mkdir -p "$1/mysql"; return 1; }\n${noPrepare}\nmain`);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/could not clone from db-0\.db\.ns after 3 attempts/);
    expect(existsSync(join(s.dataRoot, "data"))).toBe(false);
    expect(existsSync(join(s.dataRoot, "data.staging"))).toBe(false);
  });

  describe("pod 0 on an empty volume (recover-primary.sh)", () => {
    // sleep ends the run after N waits, so a loop that must never give up can be observed.
    const stopAfter = (n: number) => `sleep() { c=$(( $(cat "$RUN_DIR/sleeps" 2>/dev/null || echo 0) + 1 )); echo $c >"$RUN_DIR/sleeps"; (( c < ${n} )) || exit 3; }`;

    it("never initialises while the Kubernetes API cannot say which claims hold data", async () => {
      const s = sandbox("mysql", "db-0");
      writeFileSync(join(s.root, "api/down"), "");
      const r = await runBash(s, "prepare-data.sh", `${stubs}\n${stopAfter(3)}\nmain`);
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toMatch(/cannot ask the Kubernetes API which claims hold data: not initialising anything/);
      expect(calls(s)).toBe("");
      expect(existsSync(join(s.dataRoot, "data"))).toBe(false);
    });

    it("waits, with a Warning Event naming the claims, while the replicas holding data do not answer, and never initialises", async () => {
      const s = sandbox("mariadb", "db-0");
      claimsHoldingData(s, ["data-db-0", "data-db-1", "data-db-2", "data-other-3"]);
      const r = await runBash(s, "prepare-data.sh", `${stubs}\nmember_answers() { return 1; }\n${stopAfter(4)}\nmain`);
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toMatch(/the volume is empty and data-db-1, data-db-2 hold data; waiting for those replicas \(answering: none/);
      const events = apiCalls(s).split("\n").filter((l) => l.startsWith("POST"));
      expect(events).toHaveLength(1);
      expect(events[0]).toContain('"reason":"WaitingForReplicas"');
      expect(events[0]).toContain("recovery.allowEmptyPrimary=true");
      expect(calls(s)).toBe("");
      expect(existsSync(join(s.dataRoot, "data"))).toBe(false);
    });

    it("with recovery.allowEmptyPrimary=true initialises an empty primary anyway, and says so in an Event", async () => {
      const s = sandbox("mysql", "db-0");
      claimsHoldingData(s, ["data-db-1"]);
      const r = await runBash(s, "prepare-data.sh", `${stubs}\nmain`, { ALLOW_EMPTY_PRIMARY: "true" });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(calls(s)).toMatch(/^initialize /);
      expect(apiCalls(s)).toContain('"reason":"EmptyPrimary"');
    });

    it("copies the most advanced replica after the lagging ones catch up from it, and becomes primary from its state", async () => {
      const s = sandbox("mysql", "db-0");
      claimsHoldingData(s, ["data-db-1", "data-db-2", "data-db-3"]);
      const body = `${stubs}
        member_answers() { return 0; }
        flavor_applier_drained() { return 0; }
        flavor_gtid_state() { case $1 in *member-1.cnf) echo "u:1-5" ;; *member-2.cnf) echo "u:1-7" ;; *member-3.cnf) echo "u:1-6" ;; esac; }
        catch_up() { echo "catch_up $1 from $2 to $3" >>"$RUN_DIR/calls"; }
        flavor_seed_primary() { echo "seed $1 from $2 (donor $(basename "$3"))" >>"$RUN_DIR/calls"; mkdir -p "$1/mysql"; }
        main`;
      const r = await runBash(s, "prepare-data.sh", body);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(calls(s)).toBe(
        `catch_up 1 from 2 to u:1-7\ncatch_up 3 from 2 to u:1-7\nseed ${s.dataRoot}/data.staging from db-2.db.ns (donor member-2.cnf)\n`,
      );
      expect(existsSync(join(s.dataRoot, "data/mysql"))).toBe(true);
      expect(apiCalls(s)).toContain('"reason":"SeededFromReplica"');
    });

    it("with diverged histories copies the replica containing the most others, and warns in an Event", async () => {
      const s = sandbox("mariadb", "db-0");
      claimsHoldingData(s, ["data-db-1", "data-db-2"]);
      const body = `${stubs}
        member_answers() { return 0; }
        flavor_applier_drained() { return 0; }
        flavor_gtid_state() { case $1 in *member-1.cnf) echo "0-100-9,1-101-3" ;; *member-2.cnf) echo "0-100-10" ;; esac; }
        catch_up() { echo "catch_up $1" >>"$RUN_DIR/calls"; }
        flavor_seed_primary() { echo "seed from $2" >>"$RUN_DIR/calls"; mkdir -p "$1/mysql"; }
        main`;
      const r = await runBash(s, "prepare-data.sh", body);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(calls(s)).toBe("seed from db-1.db.ns\n");
      expect(r.stderr).toMatch(/no replica's history contains all the others' \(diverged\)/);
      expect(apiCalls(s)).toContain('"reason":"DivergedReplicas"');
    });
  });
});
