// A plain MySQL server that is not part of any release: the database a user migrates from with
// bootstrap.cloneFrom. The same start script runs in a Docker container (the local tier) and in a
// bare pod (kind e2e), on the project's own MySQL image, as its mysql user, data under /tmp.

/** The account the release clones and replicates with, as a user would create it on the old server. */
export const OUTSIDE_USER = "migrator";
export const OUTSIDE_PASSWORD = "migrat0r-pass-1";
/** The server's socket, for SQL as root from inside its container. */
export const OUTSIDE_SOCKET = "/tmp/outside.sock";
/** The CA that signed the certificate the server generated for itself at initialisation. */
export const OUTSIDE_CA = "/tmp/outside-data/ca.pem";

export interface OutsideServer {
  serverId: number;
  /** gtid_mode=ON with enforce_gtid_consistency (what replicating from it needs). */
  gtid?: boolean;
  /** The clone plugin loaded (what cloning it needs). */
  clonePlugin?: boolean;
  /** SQL run once at its first start (its data). */
  initSql?: string;
}

/** The bash script that initialises the server once and runs it in the foreground. */
export function outsideServerScript(o: OutsideServer): string {
  const gtid = o.gtid ?? true;
  const options = [
    "--no-defaults",
    "--datadir=/tmp/outside-data",
    `--socket=${OUTSIDE_SOCKET}`,
    "--pid-file=/tmp/outside.pid",
    "--port=3306",
    "--bind-address=0.0.0.0",
    `--server-id=${o.serverId}`,
    `--gtid-mode=${gtid ? "ON" : "OFF"}`,
    `--enforce-gtid-consistency=${gtid ? "ON" : "OFF"}`,
    ...(o.clonePlugin ?? true ? ["--plugin-load-add=mysql_clone.so"] : []),
    "--secure-file-priv=/tmp",
    "--mysqlx=OFF",
    "--init-file=/tmp/outside-init.sql",
  ];
  const init = [
    `CREATE USER IF NOT EXISTS '${OUTSIDE_USER}'@'%' IDENTIFIED BY '${OUTSIDE_PASSWORD}';`,
    `GRANT BACKUP_ADMIN, REPLICATION SLAVE ON *.* TO '${OUTSIDE_USER}'@'%';`,
    o.initSql ?? "",
  ].join("\n");
  return [
    "set -euo pipefail",
    "trap 'kill -TERM $pid 2>/dev/null; wait $pid' TERM",
    "if [[ ! -d /tmp/outside-data ]]; then",
    "  mysqld --no-defaults --initialize-insecure --datadir=/tmp/outside-data",
    `  cat >/tmp/outside-init.sql <<'SQL'\n${init}\nSQL`,
    "else",
    "  : >/tmp/outside-init.sql",
    "fi",
    `mysqld ${options.join(" ")} &`,
    "pid=$!",
    "wait $pid",
  ].join("\n");
}

/** The bash command running SQL as root on the server, from inside its container (stdin: the SQL). */
export const OUTSIDE_SQL = ["mysql", "--no-defaults", "-uroot", `--socket=${OUTSIDE_SOCKET}`, "--batch", "--skip-column-names"];
