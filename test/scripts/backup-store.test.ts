// The backup destination's layout (backup-store.sh): which backups are listed, which one "latest"
// is, what makes one unfit to restore, and what retention removes.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, sandbox } from "../helpers/pod-scripts.js";

/** A backup NAME in DEST as backup.sh writes it: an archive and its manifest (sha256 of ARCHIVE). */
async function fakeBackup(dest: string, name: string, archive: string | Buffer = `data of ${name}\n`, flavor = "mysql") {
  const dir = join(dest, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "data.tar.gz"), archive);
  const { createHash } = await import("node:crypto");
  const sha = createHash("sha256").update(archive).digest("hex");
  writeFileSync(join(dir, "manifest.json"), `{\n  "name": "${name}",\n  "flavor": "${flavor}",\n  "serverVersion": "9.7.0",\n  "source": "db-1.db",\n  "gtid": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,4e11fa47-71ca-11e1-9e33-c80aa9429562:1-2",\n  "archive": "data.tar.gz",\n  "size": ${Buffer.byteLength(archive)},\n  "sha256": "${sha}"\n}\n`);
}

const store = (body: string) => runBash(sandbox("mysql", "db-0"), "backup-store.sh", body);

describe("backup-store.sh", () => {
  it("lists complete backups oldest first; a partial one or one without its manifest is not listed; latest is the newest", async () => {
    const dest = mkdtempSync(join(tmpdir(), "dest-"));
    for (const n of ["20260102T030405Z", "20251231T235959Z", "20260101T000000Z"]) await fakeBackup(dest, n);
    await fakeBackup(dest, ".partial-20260103T000000Z");
    mkdirSync(join(dest, "20260104T000000Z"));
    const r = await store(`list_backups ${dest}; echo "latest: $(resolve_backup ${dest} latest)"; resolve_backup ${dest} 20260101T000000Z`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("20251231T235959Z\n20260101T000000Z\n20260102T030405Z\nlatest: 20260102T030405Z\n20260101T000000Z");
    const none = await store(`resolve_backup ${mkdtempSync(join(tmpdir(), "empty-"))} latest`);
    expect(none.exitCode).toBe(1);
  });

  it("an S3 destination that cannot be listed fails the listing, and so \"latest\", instead of looking empty", async () => {
    // RCLONE stands in for the client: one that fails every request, as an unreachable bucket does.
    const r = await store(`RCLONE=false; a=0; list_backups :s3:bucket/prefix || a=$?; echo "list: $a"; b=0; resolve_backup :s3:bucket/prefix latest || b=$?; echo "latest: $b"`);
    expect(r.stdout).toBe("list: 1\nlatest: 1");
  });

  it("describes each complete backup on one line: name, size, source and GTID position", async () => {
    const dest = mkdtempSync(join(tmpdir(), "dest-"));
    await fakeBackup(dest, "20260102T030405Z", "0123456789");
    await fakeBackup(dest, "20260101T000000Z", "01234");
    await fakeBackup(dest, ".partial-20260103T000000Z");
    const r = await store(`describe_backups ${dest}`);
    expect(r.exitCode, r.stderr).toBe(0);
    const gtid = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,4e11fa47-71ca-11e1-9e33-c80aa9429562:1-2";
    expect(r.stdout).toBe(`20260101T000000Z  5 bytes  from db-1.db  at ${gtid}\n20260102T030405Z  10 bytes  from db-1.db  at ${gtid}`);
  });

  it("reads a manifest's strings (a GTID set with commas) and numbers", async () => {
    const dest = mkdtempSync(join(tmpdir(), "dest-"));
    await fakeBackup(dest, "20260102T030405Z", "0123456789");
    const r = await store(`f=${dest}/20260102T030405Z/manifest.json; manifest_field "$f" gtid; manifest_field "$f" size; manifest_field "$f" archive`);
    expect(r.stdout).toBe("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,4e11fa47-71ca-11e1-9e33-c80aa9429562:1-2\n10\ndata.tar.gz");
  });

  it("finds nothing wrong with a whole backup, and names what is wrong with a truncated, foreign or unfinished one", async () => {
    const dest = mkdtempSync(join(tmpdir(), "dest-"));
    await fakeBackup(dest, "whole");
    await fakeBackup(dest, "truncated");
    writeFileSync(join(dest, "truncated", "data.tar.gz"), "data");
    await fakeBackup(dest, "mariadb", "x", "mariadb");
    await fakeBackup(dest, "no-archive");
    rmSync(join(dest, "no-archive", "data.tar.gz"));
    mkdirSync(join(dest, "unfinished"));
    const problems = async (name: string, version = "") => (await store(`m=$(mktemp); backup_problems ${dest} ${name} "$m" ${version}`)).stdout;
    expect(await problems("whole")).toBe("");
    expect(await problems("truncated")).toMatch(/archive is 4 bytes, the manifest says 18: truncated/);
    expect(await problems("mariadb")).toMatch(/a backup of a mariadb server; this release runs mysql/);
    expect(await problems("no-archive")).toMatch(/its archive .*no-archive\/data.tar.gz is missing/);
    expect(await problems("whole", "9.7.2")).toBe("");
    expect(await problems("whole", "8.4.6")).toMatch(/a backup of server version 9.7.0; this release's image runs 8.4.6/);
    expect(await problems("unfinished")).toMatch(/has no manifest.json: not a complete backup/);
  });

  it("extracts an archive checking its sha256 on the way: a whole one unpacks silently, replaced or damaged bytes are named", async () => {
    const dest = mkdtempSync(join(tmpdir(), "dest-"));
    const src = mkdtempSync(join(tmpdir(), "src-"));
    writeFileSync(join(src, "ibdata1"), "pages ".repeat(1000));
    const archive = (await runBash(sandbox("mysql", "db-0"), "backup-store.sh", `tar -C ${src} -czf - . | base64 -w0`)).stdout;
    const bytes = Buffer.from(archive, "base64");
    await fakeBackup(dest, "whole", bytes);
    // Bytes that still extract but are not the ones backed up (the manifest's sha256 is another's),
    // and bytes that gzip itself rejects.
    await fakeBackup(dest, "replaced", bytes);
    await fakeBackup(dest, "other", Buffer.concat([bytes, Buffer.from("x")]));
    writeFileSync(join(dest, "replaced", "manifest.json"), readFileSync(join(dest, "other", "manifest.json"), "utf8").replace(/"size": \d+/, `"size": ${bytes.length}`));
    await fakeBackup(dest, "damaged", bytes);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length >> 1] ^= 0xff;
    writeFileSync(join(dest, "damaged", "data.tar.gz"), flipped);
    const extract = (name: string) => store(`m=$(mktemp); out=$(mktemp -d); fetch_manifest ${dest} ${name} "$m"; extract_backup ${dest} ${name} "$m" "$out"; echo "$(cat "$out/ibdata1" 2>/dev/null | wc -c) bytes"`);
    const whole = await extract("whole");
    expect(whole.exitCode, whole.stderr).toBe(0);
    expect(whole.stdout).toBe("6000 bytes");
    expect((await extract("replaced")).stdout).toMatch(/^its archive's sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}: corrupt\n6000 bytes$/);
    expect((await extract("damaged")).stdout).toMatch(/^its archive.s sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}: corrupt\n/);
  });

  it("retention keeps the newest N, removes those older than D days, never the newest one, and removes interrupted backups' leftovers", async () => {
    const dest = mkdtempSync(join(tmpdir(), "dest-"));
    const names = ["20200101T000000Z", "20200102T000000Z", "20200103T000000Z", "20200104T000000Z"];
    for (const n of names) await fakeBackup(dest, n);
    mkdirSync(join(dest, ".partial-20200105T000000Z"));
    mkdirSync(join(dest, "20200106T000000Z")); // an archive written, the manifest not yet
    mkdirSync(join(dest, "lost+found")); // not a backup: never touched
    const byCount = await store(`prune_backups ${dest} 2 0; remove_partial_backups ${dest}`);
    expect(byCount.exitCode, byCount.stderr).toBe(0);
    expect(readdirSync(dest).sort()).toEqual([...names.slice(2), "lost+found"]);
    // All are years old: age alone removes every one but the newest.
    const byAge = await store(`prune_backups ${dest} 0 30`);
    expect(byAge.exitCode, byAge.stderr).toBe(0);
    expect(readdirSync(dest).sort()).toEqual([names[3], "lost+found"]);
    const none = await store(`prune_backups ${dest} 0 0`);
    expect(none.exitCode).toBe(0);
    expect(readdirSync(dest).sort()).toEqual([names[3], "lost+found"]);
  });
});
