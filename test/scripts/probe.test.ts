// probe.sh: when a pod is Ready, and that liveness never looks at replication.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, sandbox } from "../helpers/pod-scripts.js";

describe("probe.sh readiness", () => {
  const probe = async (flavor: "mysql" | "mariadb", pod: string, status: string, lag = "60") => {
    const s = sandbox(flavor, pod);
    return runBash(s, "probe.sh", `sql() { cat >/dev/null; }\nstatus_fields() { printf '${status}\\n'; }\nmain readiness`, { MAX_LAG_SECONDS: lag });
  };

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
