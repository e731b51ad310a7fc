// The archived binary logs (backup.binlogs) in an S3 destination: which ones a point-in-time restore
// replays, in what order, and which archives it refuses (restore.sh fetch_binlogs); which ones the
// backup Job's retention removes (backup-store.sh prune_binlogs). The bucket is a directory here,
// read through a stand-in for rclone's lsf, cat and delete; the real client against a real S3
// server is in backup-restore.servers.test.ts.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, sandbox } from "../helpers/pod-scripts.js";

// RCLONE names this function: the object :s3:PATH is the file $BUCKET_ROOT/PATH; what it answers
// is what backup-store.sh asks of rclone (lsf's listings, the size of one object, cat, delete).
const fakeClient = `
fake_rclone() {
  local a sub="" target="" next="" from="" format=p include="" dirs=""
  for a in "$@"; do
    case "$next" in from) from=$a ;; format) format=$a ;; include) include=\${a#/} ;; esac
    next=""
    case "$a" in --files-from-raw) next=from ;; --format) next=format ;; --include) next=include ;; --dirs-only) dirs=1 ;; esac
    if [[ -z "$sub" && ( "$a" == lsf || "$a" == cat || "$a" == delete ) ]]; then sub=$a; fi
    target=$a
  done
  target="$BUCKET_ROOT/\${target#:s3:}"
  case "$sub" in
    lsf)
      if [[ -f "$target" ]]; then stat -c %s "$target"; return; fi
      [[ -d "$target" ]] || return 0
      if [[ -n "$dirs" ]]; then (cd "$target" && find . -mindepth 1 -maxdepth 1 -type d -printf '%P/\\n'); return; fi
      (cd "$target" && find . -type f -printf '%TY-%Tm-%Td %TH:%TM:%.2TS|%P\\n') | while IFS='|' read -r t p; do
        if [[ -n "$include" && "$p" != $include ]]; then continue; fi
        if [[ "$format" == tp ]]; then echo "$t|$p"; else echo "$p"; fi
      done ;;
    cat) cat "$target" ;;
    delete) while read -r a; do rm "$target/$a"; done <"$from" ;;
    *) return 1 ;;
  esac
}
RCLONE=fake_rclone
`;

const DEST = ":s3:db-backups/p";
const HISTORY = "20261201T000000Z-aaaa0000";

/** Binary log NAME archived at AT (UTC) in ROOT's bucket; with its .sha256 unless SUM is null, the digest of SUM when given. */
function archived(root: string, name: string, at: string, sum: string | null | undefined = undefined) {
  const dir = join(root, "db-backups", "p", "binlogs", HISTORY);
  mkdirSync(dir, { recursive: true });
  const body = `events of ${name}\n`;
  writeFileSync(join(dir, name), body);
  utimesSync(join(dir, name), new Date(at), new Date(at));
  if (sum !== null) {
    writeFileSync(join(dir, `${name}.sha256`), `${createHash("sha256").update(sum ?? body).digest("hex")}  ${name}\n`);
    utimesSync(join(dir, `${name}.sha256`), new Date(at), new Date(at));
  }
}

/** A complete backup NAME in ROOT's bucket that began at STARTED. */
function backup(root: string, name: string, started: string) {
  const dir = join(root, "db-backups", "p", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "data.tar.gz"), "archive");
  writeFileSync(join(dir, "manifest.json"), `{\n  "name": "${name}",\n  "startedAt": "${started}",\n  "archive": "data.tar.gz"\n}\n`);
}

const run = (root: string, body: string) => runBash(sandbox("mysql", "db-0"), "restore.sh", `${fakeClient}\n${body}`, { BUCKET_ROOT: root, TZ: "UTC" });

async function fetchBinlogs(root: string, since: string) {
  const out = mkdtempSync(join(tmpdir(), "replay-"));
  return run(root, `fetch_binlogs ${DEST} ${out}/r ${since}; cat ${out}/r/order`);
}

describe("restore.sh fetch_binlogs (restore.pointInTime)", () => {
  it("fetches the binary logs uploaded since the backup began (less the clock slack), checked against their sha256, in archive order; the newest, still without its sha256, is left out", async () => {
    const root = mkdtempSync(join(tmpdir(), "bucket-"));
    archived(root, "binlog.000001", "2026-12-01T09:58:59Z");
    archived(root, "binlog.000002", "2026-12-01T09:59:30Z");
    archived(root, "binlog.000003", "2026-12-01T10:01:30Z");
    archived(root, "binlog.000004", "2026-12-01T10:02:30Z", null);
    const r = await fetchBinlogs(root, "2026-12-01T10:00:00Z");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(["2026-12-01 10:01:30", `${HISTORY}_binlog.000002`, `${HISTORY}_binlog.000003`].join("\n"));
  });

  it("refuses an archive with a gap: a binary log without its sha256 followed by archived ones", async () => {
    const root = mkdtempSync(join(tmpdir(), "bucket-"));
    archived(root, "binlog.000002", "2026-12-01T10:00:30Z");
    archived(root, "binlog.000003", "2026-12-01T10:01:30Z", null);
    archived(root, "binlog.000004", "2026-12-01T10:02:30Z");
    const r = await fetchBinlogs(root, "2026-12-01T10:00:00Z");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`the archived binary log ${HISTORY}/binlog.000003 has no .sha256 (its upload did not finish) but ${HISTORY}/binlog.000004 after it has: the archive has a gap there`);
  });

  it("refuses a binary log whose bytes do not match its sha256", async () => {
    const root = mkdtempSync(join(tmpdir(), "bucket-"));
    archived(root, "binlog.000002", "2026-12-01T10:00:30Z", "other bytes");
    const r = await fetchBinlogs(root, "2026-12-01T10:00:00Z");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`the archived binary log ${HISTORY}/binlog\\.000002 has sha256 [0-9a-f]{64}, its \\.sha256 file says [0-9a-f]{64}`));
  });
});

describe("backup-store.sh prune_binlogs (retention)", () => {
  it("removes the binary logs uploaded before the oldest kept backup began (less the clock slack), with their sha256; keeps the rest", async () => {
    const root = mkdtempSync(join(tmpdir(), "bucket-"));
    backup(root, "20261201T100000Z", "2026-12-01T10:00:00Z");
    backup(root, "20261201T110000Z", "2026-12-01T11:00:00Z");
    archived(root, "binlog.000001", "2026-12-01T09:30:00Z");
    archived(root, "binlog.000002", "2026-12-01T09:58:59Z");
    archived(root, "binlog.000003", "2026-12-01T09:59:30Z");
    archived(root, "binlog.000004", "2026-12-01T10:30:00Z", null);
    const r = await run(root, `prune_binlogs ${DEST}`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("removing 2 archived binary log(s) uploaded before the oldest kept backup 20261201T100000Z began (2026-12-01T10:00:00Z)");
    expect(readdirSync(join(root, "db-backups", "p", "binlogs", HISTORY)).sort()).toEqual(["binlog.000003", "binlog.000003.sha256", "binlog.000004"]);
  });

  it("leaves a destination without archived binary logs, and one without backups, alone", async () => {
    const root = mkdtempSync(join(tmpdir(), "bucket-"));
    backup(root, "20261201T100000Z", "2026-12-01T10:00:00Z");
    const none = await run(root, `prune_binlogs ${DEST}`);
    expect(none.exitCode, none.stderr).toBe(0);
    const bare = mkdtempSync(join(tmpdir(), "bucket-"));
    archived(bare, "binlog.000001", "2026-12-01T09:30:00Z");
    const r = await run(bare, `prune_binlogs ${DEST}`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(join(bare, "db-backups", "p", "binlogs", HISTORY, "binlog.000001"))).toBe(true);
  });
});
