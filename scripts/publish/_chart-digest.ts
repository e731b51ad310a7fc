// The content digest of a packaged chart: a hash over the names and bytes of the
// files in the .tgz, ignoring the tar headers' times and owners. `helm package`
// stamps each entry with its file's mtime, so two packages of the same chart made
// after a fresh checkout differ byte for byte; this digest does not.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

const BLOCK = 512;

/** Read a NUL-terminated ASCII field of a tar header. */
function field(buf: Buffer, start: number, len: number): string {
  const raw = buf.subarray(start, start + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? len : end).toString("utf8");
}

/** The value of `path` in a PAX extended header, if it has one. */
function paxPath(data: Buffer): string | undefined {
  // Records are "LEN key=value\n"; LEN counts the whole record.
  let off = 0;
  while (off < data.length) {
    const space = data.indexOf(0x20, off);
    if (space === -1) break;
    const len = Number(data.subarray(off, space).toString("ascii"));
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.subarray(space + 1, off + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    if (rec.slice(0, eq) === "path") return rec.slice(eq + 1);
    off += len;
  }
  return undefined;
}

/**
 * The regular files of a gzipped tar archive as a map from path to bytes.
 * Handles ustar, PAX (`x`) and GNU long-name (`L`) headers; skips directories and links.
 */
export function tarFiles(tgz: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(tgz);
  const files = new Map<string, Buffer>();
  let off = 0;
  let longName: string | undefined;
  while (off + BLOCK <= tar.length) {
    const header = tar.subarray(off, off + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const size = parseInt(field(header, 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(header[156] || 0x30);
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    const data = tar.subarray(off + BLOCK, off + BLOCK + size);
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x") {
      longName = paxPath(data);
      continue;
    }
    if (type === "L") {
      longName = field(data, 0, data.length);
      continue;
    }
    if (type === "g") continue;
    longName = undefined;
    if (type === "0" || type === "\0" || type === "7") files.set(name, Buffer.from(data));
  }
  return files;
}

/** Chart.yaml without the artifacthub.io/signKey annotation, which signing adds (it names the key, not the chart). */
function withoutSignKey(chartYaml: Buffer): Buffer {
  return Buffer.from(chartYaml.toString("utf8").replace(/^ {2}artifacthub\.io\/signKey: \|\n(?: {4}.*\n)*/m, ""));
}

/** sha256 over the sorted "path NUL sha256(bytes)" lines of a chart package's files (Chart.yaml without the signKey annotation). */
export function chartContentDigest(tgzPath: string): string {
  const files = tarFiles(readFileSync(tgzPath));
  const lines = [...files.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, data]) => `${name}\0${createHash("sha256").update(/^[^/]+\/Chart\.yaml$/.test(name) ? withoutSignKey(data) : data).digest("hex")}\n`);
  return `sha256:${createHash("sha256").update(lines.join("")).digest("hex")}`;
}
