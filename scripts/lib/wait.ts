// Polling, in one place: every wait in the project (cluster, Docker pods, servers, registries)
// goes through waitFor, with the default interval and timeout below.

export const POLL = {
  /** How often a condition is checked unless the caller needs finer steps. */
  intervalMs: 2000,
  /** How long a condition may take unless the caller says otherwise. */
  timeoutMs: 300_000,
  /** How often a long wait says it is still waiting. */
  reportEveryMs: 15_000,
};

export const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Thrown by a check that knows waiting longer cannot help (the process exited): waitFor rethrows it at once. */
export class GiveUp extends Error {}

/**
 * Poll CHECK until it returns a value other than undefined/false; print progress every 15 s.
 * Returns the value and how long it took. Throws naming WHAT (and CHECK's last error) on timeout;
 * an error CHECK throws counts as "not yet", except GiveUp.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number; quiet?: boolean } = {},
): Promise<{ value: T; ms: number }> {
  const timeout = opts.timeoutMs ?? POLL.timeoutMs;
  const interval = opts.intervalMs ?? POLL.intervalMs;
  const t0 = Date.now();
  let lastReport = t0;
  let lastError = "";
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return { value: v as T, ms: Date.now() - t0 };
    } catch (e) {
      if (e instanceof GiveUp) throw e;
      lastError = (e as Error).message.split("\n")[0];
    }
    const now = Date.now();
    if (now - t0 > timeout) throw new Error(`timed out after ${Math.round((now - t0) / 1000)}s waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}`);
    if (!opts.quiet && now - lastReport >= POLL.reportEveryMs) {
      console.log(`  ... waiting for ${what} (${Math.round((now - t0) / 1000)}s)`);
      lastReport = now;
    }
    await sleep(interval);
  }
}
