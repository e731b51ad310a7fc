// Clone throughput against a raw copy on the same pods. The clone: the bytes the newest replica's
// prepare-data copied from its donor when it cloned again alone, and how long that transfer took,
// read from its log with the container runtime's timestamps. The raw copy: `tar` of the donor's data directory piped with
// socat over the pod network into the same replica's volume (then removed), timed inside the donor.
import { deletePodAndClaim, type Kube, kubectl, waitAllReady, waitFor } from "../lib/kube.js";
import { podBash, STS, type System } from "./systems.js";

/** Where a flavor's clone log says the transfer started (capturing the donor's ordinal) and ended (capturing the bytes). */
export interface CloneMarkers {
  start: RegExp;
  end: RegExp;
}

export const CLONE_MARKERS: Record<"mysql" | "mariadb", CloneMarkers> = {
  // CLONE INSTANCE answers once the data is copied; clone_progress sums the bytes (clone.sh).
  mysql: { start: new RegExp(`cloning from ${STS}-(\\d+)\\.`), end: /clone completed from \S+: (\d+) bytes copied/ },
  // The backup stream ends before mariadb-backup --prepare, which is not transfer.
  mariadb: { start: new RegExp(`receiving a hot backup from ${STS}-(\\d+)\\.`), end: /received (\d+) bytes; preparing the backup/ },
};

export interface CopyResult {
  donor: number;
  receiver: number;
  cloneBytes: number;
  cloneSeconds: number;
  rawBytes: number;
  rawSeconds: number;
}

/** MB/s (10^6 bytes per second). */
export const throughput = (bytes: number, seconds: number) => bytes / seconds / 1e6;

/**
 * The last clone transfer in LOG (`kubectl logs --timestamps`): donor ordinal, bytes, seconds.
 * MySQL logs its byte count after the statement answered: the end time is the statement's answer.
 */
export function cloneTransfer(log: string, markers: CloneMarkers, answered = /clone statement answered/): { donor: number; bytes: number; seconds: number } {
  const lines = log.split("\n").map((l) => {
    const sp = l.indexOf(" ");
    return { at: Date.parse(l.slice(0, sp)), text: l.slice(sp + 1) };
  });
  let start: { at: number; donor: number } | undefined;
  let done: number | undefined;
  let bytes: number | undefined;
  for (const l of lines) {
    const s = markers.start.exec(l.text);
    if (s) {
      start = { at: l.at, donor: Number(s[1]) };
      done = bytes = undefined;
      continue;
    }
    if (start && answered.test(l.text)) done = l.at;
    const e = markers.end.exec(l.text);
    if (start && e) {
      bytes = Number(e[1]);
      done ??= l.at;
    }
  }
  if (!start || bytes === undefined || done === undefined || Number.isNaN(start.at) || Number.isNaN(done)) {
    throw new Error(`no completed clone transfer in the log (looked for ${markers.start} then ${markers.end})`);
  }
  return { donor: start.donor, bytes, seconds: Math.max(done - start.at, 1) / 1000 };
}

const PORT = 4444;

/** Copy the donor's data directory into RECEIVER's volume with tar over the pod network; bytes and seconds. */
async function rawCopy(k: Kube, s: System, namespace: string, donor: number, receiver: number): Promise<{ bytes: number; seconds: number }> {
  const pod = (i: number) => `${STS}-${i}`;
  const exec = (i: number, script: string) => podBash(k, s, namespace, i, script, 600_000);
  const ip = (await kubectl(k, ["get", "pod", "-n", namespace, pod(receiver), "-o", "jsonpath={.status.podIP}"])).stdout.trim();
  if (!ip) throw new Error(`${pod(receiver)} has no pod IP`);
  const dir = `${s.dataRoot}/bench-raw-copy`;
  const received = exec(receiver, `set -euo pipefail; rm -rf ${dir}; mkdir ${dir}; socat -u TCP-LISTEN:${PORT},reuseaddr STDOUT | tar -x -C ${dir}; du -sb ${dir} | cut -f1; rm -rf ${dir}`);
  // The listener is up when the receiver's kernel lists the port in state LISTEN (0A).
  const hexPort = PORT.toString(16).toUpperCase().padStart(4, "0");
  await waitFor(`${pod(receiver)} listening on ${PORT}`, async () => {
    const r = await exec(receiver, `awk '$4 == "0A" && $2 ~ /:${hexPort}$/' /proc/net/tcp /proc/net/tcp6`);
    return r.stdout.trim() !== "" || undefined;
  }, { timeoutMs: 30_000, intervalMs: 250, quiet: true });
  // tar exits 1 when a file changed while it read it: the server is running, as it is for the clone.
  const sent = await exec(
    donor,
    `t0=$(date +%s%N); tar -c -C ${s.dataDir} --warning=no-file-changed . | socat -u STDIN TCP:${ip}:${PORT}; rc=("\${PIPESTATUS[@]}"); t1=$(date +%s%N)
     if (( rc[0] > 1 || rc[1] != 0 )); then echo "tar exited \${rc[0]}, socat \${rc[1]}" >&2; exit 1; fi
     echo $(( (t1 - t0) / 1000000 ))`,
  );
  const got = await received;
  if (sent.exitCode !== 0) throw new Error(`raw copy from ${pod(donor)} failed: ${sent.stderr.trim()}`);
  if (got.exitCode !== 0) throw new Error(`raw copy into ${pod(receiver)} failed: ${got.stderr.trim()}`);
  return { bytes: Number(got.stdout.trim()), seconds: Number(sent.stdout.trim()) / 1000 };
}

/**
 * The clone of pod RECEIVER (from its log) against a raw copy from the same donor into the same
 * pod. The pod clones again first, alone (its claim and pod deleted; it copies a Ready donor),
 * because during the scale-out it shared the node with the other new replica's clone, and the
 * raw copy runs alone. N is the StatefulSet's size.
 */
export async function compareCopies(k: Kube, s: System, namespace: string, receiver: number, n: number): Promise<CopyResult> {
  if (!s.cloneMarkers) throw new Error(`${s.label} has no clone log to read`);
  await deletePodAndClaim(k, namespace, `${STS}-${receiver}`, `data-${STS}-${receiver}`);
  await waitAllReady(k, namespace, STS, n, 600_000, 250);
  const log = (await kubectl(k, ["logs", "--timestamps", "-n", namespace, `${STS}-${receiver}`, "-c", "prepare-data"])).stdout;
  const clone = cloneTransfer(log, s.cloneMarkers);
  const raw = await rawCopy(k, s, namespace, clone.donor, receiver);
  return { donor: clone.donor, receiver, cloneBytes: clone.bytes, cloneSeconds: clone.seconds, rawBytes: raw.bytes, rawSeconds: raw.seconds };
}
