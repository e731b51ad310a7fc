// kubectl exec's answer, whole or lost: the command execScript sends (run here with the host's bash,
// as the container's would) runs a script at most once per nonce and ends its output with a marker.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { execOnceCommand, parseExecEnd } from "../../scripts/lib/kube.js";

const run = (command: string) => execa("bash", ["-c", command], { reject: false });

describe("execScript's command (a lost kubectl exec answer is replayed, never re-run)", () => {
  it("returns the script's stdout, stderr and exit status, with the end marker split off", async () => {
    const r = await run(execOnceCommand(randomBytes(8).toString("hex"), "echo -n partial; echo oops >&2; exit 3"));
    expect(parseExecEnd(r.stdout)).toEqual({ stdout: "partial", exitCode: 3 });
    expect(r.stderr).toBe("oops");
  });

  it("feeds the input to the script's stdin (in the command, so a lost stdin cannot empty it)", async () => {
    const r = await run(execOnceCommand(randomBytes(8).toString("hex"), "tr a-z A-Z", "select 'it''s'\n;\n"));
    expect(parseExecEnd(r.stdout)).toEqual({ stdout: "SELECT 'IT''S'\n;", exitCode: 0 });
  });

  it("asked again under the same nonce, replays the first run's answer without running the script again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "exec-once-"));
    const command = execOnceCommand(randomBytes(8).toString("hex"), `echo run >> ${dir}/runs; echo "row $(wc -l < ${dir}/runs)"`);
    const first = await run(command);
    const again = await run(command);
    expect(parseExecEnd(again.stdout)).toEqual(parseExecEnd(first.stdout));
    expect(parseExecEnd(again.stdout)).toEqual({ stdout: "row 1", exitCode: 0 });
    expect(readFileSync(join(dir, "runs"), "utf8")).toBe("run\n");
  });

  it("an answer cut before its end is not taken for the script's (exit 0, empty output)", () => {
    expect(parseExecEnd("")).toBeUndefined();
    expect(parseExecEnd("ERROR 1290 (HY000): The MySQL server is running with the --super-read-only")).toBeUndefined();
    expect(parseExecEnd("some output\n__exec_exit_status=")).toBeUndefined();
  });
});
