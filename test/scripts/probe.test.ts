// probe.sh: when a pod is Ready, and that liveness never looks at replication.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, type Sandbox, sandbox } from "../helpers/pod-scripts.js";

describe("probe.sh readiness", () => {
  const probeIn = (s: Sandbox, status: string, lag = "60") =>
    runBash(s, "probe.sh", `sql() { cat >/dev/null; }\nstatus_fields() { printf '${status}\\n'; }\nmain readiness`, { MAX_LAG_SECONDS: lag });
  const probe = (flavor: "mysql" | "mariadb", pod: string, status: string, lag = "60") => probeIn(sandbox(flavor, pod), status, lag);
  const contact = (s: Sandbox) => join(s.run, "replication-in-contact");
  const now = () => Math.floor(Date.now() / 1000);

  it("is Ready on the primary whenever the server answers", async () => {
    expect((await probe("mysql", "db-0", "\\t\\t")).exitCode).toBe(0);
  });

  it("is Ready on a replica only with both threads running and lag within the bound", async () => {
    expect((await probe("mysql", "db-1", "Yes\\tYes\\t0")).exitCode).toBe(0);
    expect((await probe("mariadb", "db-1", "Yes\\tYes\\t60")).exitCode).toBe(0);
    const stopped = await probe("mysql", "db-1", "Yes\\tNo\\t0");
    expect(stopped.exitCode).not.toBe(0);
    expect(stopped.stdout).toMatch(/replication not running \(io=Yes sql=No\)/);
    expect((await probe("mysql", "db-1", "Connecting\\tYes\\tNULL")).exitCode).not.toBe(0);
    const lagging = await probe("mariadb", "db-2", "Yes\\tYes\\t61");
    expect(lagging.exitCode).not.toBe(0);
    expect(lagging.stdout).toMatch(/lag 61s is over 60s/);
    expect((await probe("mysql", "db-1", "\\t\\t")).exitCode).not.toBe(0);
  });

  it("records each healthy check: when the source was reached and how far behind the replica was", async () => {
    const s = sandbox("mysql", "db-1");
    expect((await probeIn(s, "Yes\\tYes\\t3")).exitCode).toBe(0);
    const [at, lag] = readFileSync(contact(s), "utf8").trim().split(" ").map(Number);
    expect(Math.abs(at - now())).toBeLessThanOrEqual(2);
    expect(lag).toBe(3);
    // An unhealthy check leaves the last record as it was.
    await probeIn(s, "Yes\\tNo\\t0");
    expect(readFileSync(contact(s), "utf8").trim()).toBe(`${at} 3`);
  });

  it("stays Ready while its source cannot be reached, as long as its data is at most the lag bound old", async () => {
    // The probe's clock is pinned 10 s after the last contact (a slow machine cannot move it).
    const at = now() - 10;
    const clock = `date() { if [[ "$*" == "+%s" ]]; then echo ${at + 10}; else command date "$@"; fi; }`;
    const unreachable = (s: Sandbox, lag: string) =>
      runBash(s, "probe.sh", `${clock}\nsql() { cat >/dev/null; }\nstatus_fields() { printf 'Connecting\\tYes\\tNULL\\n'; }\nmain readiness`, { MAX_LAG_SECONDS: lag });
    for (const flavor of ["mysql", "mariadb"] as const) {
      const s = sandbox(flavor, "db-2");
      writeFileSync(contact(s), `${at} 5\n`);
      const away = await unreachable(s, "20");
      expect(away.exitCode, flavor).toBe(0);
      expect(away.stdout).toMatch(/source unreachable: data at most 15s old, within 20s: still Ready/);
      // The same record, a tighter bound: out of the read Service, saying how old the data may be.
      const tooOld = await unreachable(s, "12");
      expect(tooOld.exitCode, flavor).not.toBe(0);
      expect(tooOld.stdout).toMatch(/source unreachable: data up to 15s old, over 12s/);
    }
  });

  it("is not Ready while its source cannot be reached if it never reached it, or if replication is stopped or failed", async () => {
    const s = sandbox("mysql", "db-1");
    expect(existsSync(contact(s))).toBe(false);
    const never = await probeIn(s, "Connecting\\tYes\\tNULL");
    expect(never.exitCode).not.toBe(0);
    expect(never.stdout).toMatch(/never reached from this pod/);
    writeFileSync(contact(s), `${now()} 0\n`);
    // A stopped or failed receiver (io=No), or a stopped applier, is never excused by a recent contact.
    expect((await probeIn(s, "No\\tYes\\tNULL")).exitCode).not.toBe(0);
    expect((await probeIn(s, "Connecting\\tNo\\tNULL")).exitCode).not.toBe(0);
  });

  it("a new replica's first check waits (FIRST_READY_WAIT_SECONDS) for the sidecar to start replication and is Ready as soon as it runs, instead of a whole period later", async () => {
    const s = sandbox("mysql", "db-1");
    const reads = join(s.run, "reads");
    // Not configured for the first two reads (an empty row), then replicating.
    const starting = `sql() { cat >/dev/null; }\nstatus_fields() { echo x >>"${reads}"; [[ $(wc -l <"${reads}") -gt 2 ]] || { printf '\\t\\t\\n'; return 0; }; printf 'Yes\\tYes\\t0\\n'; }\nmain readiness`;
    const r = await runBash(s, "probe.sh", starting, { FIRST_READY_WAIT_SECONDS: "3" });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(reads, "utf8").trim().split("\n")).toHaveLength(3);
    // Without the setting, the first check answers at once: not Ready.
    const s2 = sandbox("mysql", "db-1");
    expect((await runBash(s2, "probe.sh", starting.replaceAll(reads, join(s2.run, "reads")))).exitCode).not.toBe(0);
  });

  it("once the pod has been Ready, a failing check answers at once (nothing waits at rest), and a replica that never starts replicating is not Ready after the wait", async () => {
    const s = sandbox("mysql", "db-1");
    const reads = join(s.run, "reads");
    const stopped = `sql() { cat >/dev/null; }\nstatus_fields() { echo x >>"${reads}"; printf 'Yes\\tNo\\t0\\n'; }\nmain readiness`;
    writeFileSync(contact(s), `${now()} 0\n`);
    const atRest = await runBash(s, "probe.sh", stopped, { FIRST_READY_WAIT_SECONDS: "3" });
    expect(atRest.exitCode).not.toBe(0);
    expect(readFileSync(reads, "utf8").trim().split("\n")).toHaveLength(1);
    rmSync(contact(s));
    rmSync(reads);
    const never = await runBash(s, "probe.sh", stopped, { FIRST_READY_WAIT_SECONDS: "1" });
    expect(never.exitCode).not.toBe(0);
    expect(never.stdout).toMatch(/replication not running \(io=Yes sql=No\)/);
    expect(readFileSync(reads, "utf8").trim().split("\n").length).toBeGreaterThan(1);
  });

  it("reads the replication status once more with root's refreshed login when the first read fails (a password rotation landing in between)", async () => {
    const s = sandbox("mysql", "db-1");
    const reads = join(s.run, "reads");
    // The first read fails (as with the old password) after printing an empty row, as the real
    // status_fields does; the next one answers. Only the answer counts.
    const once = `sql() { cat >/dev/null; }\nstatus_fields() { echo x >>"${reads}"; [[ $(wc -l <"${reads}") -gt 1 ]] || { echo; return 1; }; printf 'Yes\\tYes\\t0\\n'; }\nmain readiness`;
    const r = await runBash(s, "probe.sh", once, { MAX_LAG_SECONDS: "60" });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(reads, "utf8").trim().split("\n")).toHaveLength(2);
    // A status that cannot be read twice is not Ready.
    const never = await runBash(sandbox("mysql", "db-1"), "probe.sh", `sql() { cat >/dev/null; }\nstatus_fields() { return 1; }\nmain readiness`);
    expect(never.exitCode).not.toBe(0);
    expect(never.stdout).toMatch(/cannot read the replication status/);
  });

  it("logs in as the monitor account, and as root only while that account cannot log in (a release from before 0.3.0)", async () => {
    const s = sandbox("mysql", "db-1");
    const used = join(s.run, "used");
    const body = `sql() { cat >/dev/null; [[ "$1" != *client-monitor.cnf || -e "$RUN_DIR/monitor-exists" ]]; }
status_fields() { echo "$1" >>"${used}"; printf 'Yes\\tYes\\t0\\n'; }
main readiness`;
    writeFileSync(join(s.run, "monitor-exists"), "");
    const withMonitor = await runBash(s, "probe.sh", body);
    expect(withMonitor.exitCode, withMonitor.stderr).toBe(0);
    expect(readFileSync(used, "utf8")).toBe(`${join(s.run, "client-monitor.cnf")}\n`);
    expect(readFileSync(join(s.run, "client-monitor.cnf"), "utf8")).toContain('user="mysql_chart_monitor"');
    expect(existsSync(join(s.run, "client-root.cnf")), "root's option file is not even written").toBe(false);
    rmSync(join(s.run, "monitor-exists"));
    rmSync(used);
    const withoutMonitor = await runBash(s, "probe.sh", body);
    expect(withoutMonitor.exitCode, withoutMonitor.stderr).toBe(0);
    expect(readFileSync(used, "utf8")).toBe(`${join(s.run, "client-root.cnf")}\n`);
  });

  it("asks the server once per liveness check and twice per replica readiness check when the monitor account logs in (each check is paid for by the node)", async () => {
    const s = sandbox("mysql", "db-1");
    const asked = join(s.run, "asked");
    const body = (mode: string) => `sql() { cat >/dev/null; echo "$1" >>"${asked}"; }
status_fields() { echo status >>"${asked}"; printf 'Yes\\tYes\\t0\\n'; }
main ${mode}`;
    for (const [mode, times] of [["liveness", 1], ["startup", 1], ["readiness", 2]] as const) {
      rmSync(asked, { force: true });
      const r = await runBash(s, "probe.sh", body(mode));
      expect(r.exitCode, r.stderr).toBe(0);
      expect(readFileSync(asked, "utf8").trim().split("\n"), mode).toHaveLength(times);
    }
    // Logged in as root instead (no monitor account yet): the server is asked whether it answers.
    const rootOnly = `sql() { cat >/dev/null; echo "$1" >>"${asked}"; [[ "$1" != *client-monitor.cnf ]]; }\nmain liveness`;
    rmSync(asked, { force: true });
    const r = await runBash(s, "probe.sh", rootOnly);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(asked, "utf8")).toBe(`${join(s.run, "client-monitor.cnf")}\n${join(s.run, "client-root.cnf")}\n`);
  });

  it("never looks at replication for liveness", async () => {
    const s = sandbox("mysql", "db-1");
    const r = await runBash(s, "probe.sh", `sql() { cat >/dev/null; }\nstatus_fields() { echo called >&2; return 1; }\nmain liveness`);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/called/);
  });

  it("while the sidecar re-clones the replica: alive (not restarted), not Ready, and says why", async () => {
    for (const mode of ["startup", "liveness", "readiness"]) {
      const s = sandbox("mariadb", "db-2");
      writeFileSync(join(s.dataRoot, "reclone.requested"), "diverged\n");
      const r = await runBash(s, "probe.sh", `sql() { echo "server asked" >&2; return 1; }\nmain ${mode}`);
      expect(r.exitCode, mode).toBe(mode === "readiness" ? 1 : 0);
      expect(r.stdout).toMatch(/re-cloning this replica: diverged/);
      expect(r.stderr).not.toContain("server asked");
    }
  });
});
