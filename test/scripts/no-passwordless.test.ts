// No account is ever created or used without a password: a missing or empty Secret key stops the
// script that needs it, naming the key, even where bash's errexit is off (inside `if`, `||`,
// pipelines and $(...)), which is where these paths used to continue with an empty string.
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, sandbox } from "../helpers/pod-scripts.js";

const stubs = `
  flavor_initialize_datadir() { echo "initialize $1" >>"$RUN_DIR/calls"; mkdir -p "$1/mysql"; }
  start_temp_server() { echo "start $1" >>"$RUN_DIR/calls"; }
  wait_for_server() { echo "wait" >>"$RUN_DIR/calls"; }
  stop_temp_server() { :; }
  sql() { cat >>"$RUN_DIR/sql"; }
`;
const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");

describe("Secret keys", () => {
  for (const flavor of ["mysql", "mariadb"] as const) {
    it(`${flavor}: the primary's initialisation stops before any server starts when the clone password is missing, naming it`, async () => {
      const s = sandbox(flavor, "db-0");
      rmSync(join(s.secrets, "mysql-clone-password"));
      const r = await runBash(s, null, `${stubs}\ninitialize_primary "$DATA_ROOT/data.staging"`);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/secret key 'mysql-clone-password' is missing/);
      expect(read(join(s.run, "calls"))).toBe("");
      expect(read(join(s.run, "sql"))).toBe("");
    });
  }

  it("an empty key (a newline only, as `kubectl create secret --from-file` of an empty file gives) counts as missing", async () => {
    const s = sandbox("mysql", "db-0");
    writeFileSync(join(s.secrets, "mysql-root-password"), "\n");
    const r = await runBash(s, null, "read_secret mysql-root-password");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/secret key 'mysql-root-password' is empty/);
  });

  it("account_sql run where errexit is off (a pipeline with ||) still fails instead of writing an empty password", async () => {
    const s = sandbox("mysql", "db-0");
    writeFileSync(join(s.secrets, "mysql-replication-password"), "");
    const r = await runBash(s, null, `{ account_sql; } | cat >"$RUN_DIR/out" || echo "failed as it should" >&2`);
    expect(r.stderr).toMatch(/mysql-replication-password' is empty/);
    expect(read(join(s.run, "out"))).not.toMatch(/IDENTIFIED BY ''/);
    expect(read(join(s.run, "out"))).not.toMatch(/CREATE USER 'replicator'/);
  });

  it("sql_password refuses an empty password", async () => {
    const s = sandbox("mysql");
    const r = await runBash(s, null, `sql_password ""`);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/refusing to set an empty password/);
    expect((await runBash(s, null, `sql_password "x'y"`)).stdout).toBe("'x''y'");
  });

  it("prepare-data stops a pod whose Secret lacks a key even when its data already exists, naming every missing key", async () => {
    const s = sandbox("mysql", "db-1");
    mkdirSync(join(s.dataRoot, "data/mysql"), { recursive: true });
    rmSync(join(s.secrets, "mysql-root-password"));
    writeFileSync(join(s.secrets, "mysql-password"), "");
    const r = await runBash(s, "prepare-data.sh", "main", { APP_USER: "app" });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/lacks a non-empty value for: mysql-root-password mysql-password/);
  });

  it("root's option file is never written without a password", async () => {
    const s = sandbox("mysql", "db-1");
    rmSync(join(s.secrets, "mysql-root-password"));
    const r = await runBash(s, null, `ensure_root_cnf || echo "failed as it should" >&2`);
    expect(r.stderr).toMatch(/failed as it should/);
    expect(existsSync(join(s.run, "client-root.cnf"))).toBe(false);
  });

  it("MySQL: a clone attempt without the clone password fails at once (called from `if`), before waiting for the donor", async () => {
    const s = sandbox("mysql", "db-1");
    rmSync(join(s.secrets, "mysql-clone-password"));
    const r = await runBash(s, null, `${stubs}\nif flavor_clone_into "$DATA_ROOT/data.staging" db-0.db.ns; then echo cloned; else echo refused; fi`);
    expect(r.stdout).toBe("refused");
    expect(read(join(s.run, "calls"))).toBe("");
  });

  it("MariaDB: a clone attempt without the clone password fails at once (called from `if`), before connecting", async () => {
    const s = sandbox("mariadb", "db-1");
    rmSync(join(s.secrets, "mysql-clone-password"));
    const r = await runBash(s, null, `receive_backup() { echo connect >>"$RUN_DIR/calls"; }\nif flavor_clone_into "$DATA_ROOT/data.staging" db-0.db.ns; then echo cloned; else echo refused; fi`);
    expect(r.stdout).toBe("refused");
    expect(read(join(s.run, "calls"))).toBe("");
  });

  it("a key the user's Secret lacks is read from the chart's internal Secret; one it holds is never overridden", async () => {
    const s = sandbox("mysql", "db-1");
    const internal = join(s.root, "internal");
    mkdirSync(internal);
    writeFileSync(join(internal, "mysql-clone-password"), "internal-clone");
    writeFileSync(join(internal, "mysql-root-password"), "not-used");
    rmSync(join(s.secrets, "mysql-clone-password"));
    const r = await runBash(s, null, "read_secret mysql-clone-password; echo; read_secret mysql-root-password", { INTERNAL_SECRETS_DIR: internal });
    expect(r.stdout.split("\n")).toEqual(["internal-clone", "r00t'pa\"ss\\word"]);
    writeFileSync(join(s.secrets, "mysql-clone-password"), "");
    const empty = await runBash(s, null, "read_secret mysql-clone-password", { INTERNAL_SECRETS_DIR: internal });
    expect(empty.exitCode, "an empty key in the user's Secret is an error, not a reason to fall back").not.toBe(0);
  });
});

describe("replication status read failures", () => {
  for (const flavor of ["mysql", "mariadb"] as const) {
    it(`${flavor}: the sidecar stops rather than re-pointing replication when the status cannot be read`, async () => {
      const s = sandbox(flavor, "db-1");
      mkdirSync(join(s.dataRoot, "data"), { recursive: true });
      writeFileSync(join(s.dataRoot, "data/mysql-chart-clone.info"), "gtid=0-100-5\n");
      const r = await runBash(s, "replication-sidecar.sh", `sql() { cat >>"$RUN_DIR/sql"; }\nstatus_fields() { return 1; }\nconfigure_replication`);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/cannot read the replication status/);
      expect(read(join(s.run, "sql"))).toBe("");
    });
  }
});
