// The one wrapper every call to helm goes through: tests can check its arguments,
// a missing binary says how to install it, and Helm's own error output is passed through.
import { basename } from "node:path";
import { execa } from "execa";
import { toolPath } from "./tools.js";

export interface HelmResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class HelmError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
    readonly exitCode: number,
  ) {
    super(`helm ${args.join(" ")} failed (exit ${exitCode}):\n${stderr.trim()}`);
  }
}

/**
 * Run helm with ARGS; throws HelmError on a non-zero exit unless allowFailure is set.
 * opts.bin is the binary to run (default: the pinned helm, toolPath("helm")); the
 * compatibility tests pass toolPath("helm3").
 */
export async function helm(
  args: string[],
  opts: { allowFailure?: boolean; env?: Record<string, string>; cwd?: string; timeoutMs?: number; bin?: string } = {},
): Promise<HelmResult> {
  const bin = opts.bin ?? toolPath("helm");
  try {
    const r = await execa(bin, args, {
      reject: false,
      env: opts.env,
      cwd: opts.cwd,
      timeout: opts.timeoutMs ?? 120_000,
    });
    if ((r as { code?: string }).code === "ENOENT") throw new Error("ENOENT");
    const result = { stdout: r.stdout ?? "", stderr: r.stderr ?? "", exitCode: r.exitCode ?? -1 };
    if (result.exitCode !== 0 && !opts.allowFailure) throw new HelmError(args, result.stderr, result.exitCode);
    return result;
  } catch (e) {
    if (e instanceof HelmError) throw e;
    if ((e as Error).message.includes("ENOENT")) {
      const tool = basename(bin);
      throw new Error(`${tool} was not found (looked for ${bin}): is it installed? Run: bash scripts/install-tools.sh ${tool}`);
    }
    throw e;
  }
}

export interface TemplateOptions {
  release?: string;
  namespace?: string;
  valuesFiles?: string[];
  set?: Record<string, string | number | boolean>;
  showOnly?: string[];
}

/** The argument list of `helm template` for these options (kept apart so the Helm 3 tests run the same arguments). */
export function templateArgs(chartDir: string, o: TemplateOptions = {}): string[] {
  const args = ["template", o.release ?? "mysql", chartDir, "--namespace", o.namespace ?? "default"];
  for (const f of o.valuesFiles ?? []) args.push("--values", f);
  for (const [k, v] of Object.entries(o.set ?? {})) args.push("--set", `${k}=${v}`);
  for (const s of o.showOnly ?? []) args.push("--show-only", s);
  return args;
}

/** Render the chart with `helm template`; returns the manifests as one YAML stream. */
export async function helmTemplate(chartDir: string, o: TemplateOptions = {}): Promise<string> {
  return (await helm(templateArgs(chartDir, o))).stdout;
}
