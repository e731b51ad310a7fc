// The S3-compatible server the backup tests write to (versitygw, infra/images/object-store/build.sh),
// over HTTPS with a certificate of a CA made here: its certificates, and the server as a Docker
// container beside LocalPods (the local tier). The e2e runs the same image in kind (test/e2e/object-store.ts).
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { versions } from "../../scripts/lib/tools.js";
import { docker } from "./docker-pods.js";

/** A CA and a certificate for HOSTS (the first is the subject), PEM. */
export async function objectStoreCertificates(hosts: string[]): Promise<{ ca: string; cert: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), "object-store-tls-"));
  try {
    const run = (args: string[]) => execa("openssl", args, { cwd: dir });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await run(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=object-store test CA"]);
    await run(["req", ...ec, "-keyout", "tls.key", "-out", "tls.csr", "-subj", `/CN=${hosts[0]}`]);
    writeFileSync(join(dir, "ext"), `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(",")}\n`);
    await run(["x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "tls.crt", "-days", "2", "-extfile", "ext"]);
    const read = (f: string) => readFileSync(join(dir, f), "utf8");
    return { ca: read("ca.crt"), cert: read("tls.crt"), key: read("tls.key") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * versitygw in a container named NAME-object-store, reachable as https://object-store:7070 on every
 * network given to start(), serving the host directory `data` (bucket BUCKET is data/BUCKET). The
 * pods get the S3 client (rclone, copied out of its image as the chart's init container copies it)
 * and the CA through mounts(), and rclone's settings through env(): what the chart renders.
 */
export class LocalObjectStore {
  static readonly BUCKET = "db-backups";
  readonly dir = mkdtempSync(join(tmpdir(), "object-store-"));
  readonly data = join(this.dir, "data");
  private readonly keys = { id: `local${randomBytes(4).toString("hex")}`, secret: randomBytes(16).toString("hex") };
  private readonly name = `mysql-chart-test-object-store-${process.pid}-${Math.floor(Math.random() * 1e6)}`;

  async start(networks: string[]): Promise<void> {
    const pins = versions();
    chmodSync(this.dir, 0o755);
    for (const d of [join(this.dir, "tls"), join(this.dir, "ca"), join(this.dir, "tools"), join(this.data, LocalObjectStore.BUCKET)]) mkdirSync(d, { recursive: true });
    chownSync(this.data, 65534, 65534);
    chownSync(join(this.data, LocalObjectStore.BUCKET), 65534, 65534);
    const tls = await objectStoreCertificates(["object-store"]);
    writeFileSync(join(this.dir, "tls", "tls.crt"), tls.cert);
    writeFileSync(join(this.dir, "tls", "tls.key"), tls.key, { mode: 0o644 });
    writeFileSync(join(this.dir, "ca", "ca.crt"), tls.ca);
    // The client, as the chart's s3-client init container copies it out of images.rclone.
    const copier = `${this.name}-rclone`;
    await docker(["rm", "-f", copier]);
    const created = await docker(["create", "--name", copier, pins.LOCAL_IMAGE_RCLONE]);
    if (created.exitCode !== 0) throw new Error(`image ${pins.LOCAL_IMAGE_RCLONE} is missing (bash infra/images/db/build.sh rclone): ${created.stderr}`);
    await docker(["cp", "-L", `${copier}:/usr/local/bin/rclone`, join(this.dir, "tools", "rclone")]);
    await docker(["rm", "-f", copier]);
    const [first, ...more] = networks;
    const r = await docker(["run", "-d", "--name", this.name, "--network", first, "--network-alias", "object-store", "--user", "65534:65534",
      "-v", `${this.data}:/data`, "-v", `${join(this.dir, "tls")}:/tls:ro`,
      "-e", `ROOT_ACCESS_KEY_ID=${this.keys.id}`, "-e", `ROOT_SECRET_ACCESS_KEY=${this.keys.secret}`,
      pins.LOCAL_IMAGE_OBJECT_STORE, "--port", ":7070", "--cert", "/tls/tls.crt", "--key", "/tls/tls.key", "posix", "/data"]);
    if (r.exitCode !== 0) throw new Error(`the object store did not start (bash infra/images/object-store/build.sh builds its image): ${r.stderr}`);
    for (const n of more) await docker(["network", "connect", "--alias", "object-store", n, this.name]);
  }

  /** rclone's settings for the bucket as the chart renders them (mysql.s3Env), with KEYS overriding the real ones. */
  env(keys: Partial<{ id: string; secret: string }> = {}): Record<string, string> {
    return {
      RCLONE: "/opt/mysql-chart/tools/rclone",
      RCLONE_S3_PROVIDER: "Other",
      RCLONE_S3_ENDPOINT: "https://object-store:7070",
      RCLONE_S3_REGION: "us-east-1",
      RCLONE_S3_FORCE_PATH_STYLE: "true",
      RCLONE_S3_NO_CHECK_BUCKET: "true",
      RCLONE_S3_ENV_AUTH: "false",
      RCLONE_S3_ACCESS_KEY_ID: keys.id ?? this.keys.id,
      RCLONE_S3_SECRET_ACCESS_KEY: keys.secret ?? this.keys.secret,
      RCLONE_CA_CERT: "/etc/mysql-chart/s3-ca/ca.crt",
    };
  }

  /** The read-only mounts of a pod that runs the client (the chart's s3-client and s3-ca volumes). */
  mounts(): Record<string, string> {
    return { [join(this.dir, "tools")]: "/opt/mysql-chart/tools", [join(this.dir, "ca")]: "/etc/mysql-chart/s3-ca" };
  }

  async destroy(): Promise<void> {
    await docker(["rm", "-f", this.name]);
    await execa("rm", ["-rf", this.dir], { reject: false });
  }
}
