// pre-stop.sh: before SIGTERM, a running event scheduler is stopped (it holds a primary's
// shutdown for seconds); whatever happens, the hook exits 0 and the shutdown goes ahead.
import { describe, expect, it } from "vitest";
import { runBash, sandbox } from "../helpers/pod-scripts.js";

/** Run the hook with the server answering SELECT @@GLOBAL.event_scheduler with STATE (or not at all); returns the SQL sent. */
async function preStop(flavor: "mysql" | "mariadb", state: string | null, opts: { setFails?: boolean } = {}) {
  const s = sandbox(flavor, "db-0");
  // The hook reads the state in $(...), a subshell: what is sent is recorded in a file.
  const stub = `sent="${s.run}/sent"; : >"$sent"
sql() { local q; q=$(cat); printf '%s;' "$q" >>"$sent"; case "$q" in
  SELECT*) ${state === null ? "return 1" : `echo ${state}`} ;;
  SET*) ${opts.setFails ? "return 1" : "return 0"} ;;
esac; }
main; rc=$?; echo "rc=$rc sent=$(cat "$sent")"`;
  return runBash(s, "pre-stop.sh", stub);
}

describe("pre-stop.sh", () => {
  it("stops a running event scheduler before the shutdown, in both flavors", async () => {
    for (const flavor of ["mysql", "mariadb"] as const) {
      const r = await preStop(flavor, "ON");
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain("SET GLOBAL event_scheduler = OFF");
      expect(r.stderr).toMatch(/event scheduler stopped before shutdown/);
    }
  });

  it("leaves a stopped or disabled scheduler alone", async () => {
    for (const state of ["OFF", "DISABLED"]) {
      const r = await preStop("mysql", state);
      expect(r.stdout).toBe("rc=0 sent=SELECT @@GLOBAL.event_scheduler;");
    }
  });

  it("never fails the hook: a server that does not answer, or refuses the change, is shut down as is", async () => {
    const silent = await preStop("mysql", null);
    expect(silent.stdout).toMatch(/^rc=0 /);
    expect(silent.stderr).toMatch(/does not answer; shutting down as is/);
    const refused = await preStop("mysql", "ON", { setFails: true });
    expect(refused.stdout).toMatch(/^rc=0 /);
    expect(refused.stderr).toMatch(/could not stop the event scheduler/);
  });
});
