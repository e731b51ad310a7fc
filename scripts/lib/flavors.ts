// What differs between the two database families, for the TypeScript side (demo, e2e, kube.ts),
// in one table, as files/scripts/<flavor>/flavor.sh is for the in-pod shell.
import { versions } from "./tools.js";

const pins = versions();

export type Flavor = "mysql" | "mariadb";

export interface FlavorInfo {
  /** The client program (the official mariadb:11 image has no "mysql"). */
  client: string;
  /** The word replication statements use: STOP REPLICA / STOP SLAVE. */
  replica: "REPLICA" | "SLAVE";
  /** @@read_only and, where it exists, @@super_read_only (0 on MariaDB, which has none). */
  readOnlyQuery: string;
  /** The executed GTID set (MySQL) or binlog position (MariaDB) of a server. */
  gtidQuery: string;
  /** True when a replica's executed GTIDs include TARGET (a value of gtidQuery on the primary). */
  hasGtidsQuery: (target: string) => string;
  /** The environment variable naming the image to test instead of the locally built one. */
  imageEnv: string;
  /** The image built locally from Debian packages (infra/images/db). */
  localImage: string;
  /** Whether new replicas copy their donor through the sidecar's backup port (MariaDB). */
  backupPort: boolean;
  /** An image of the previous LTS line, built locally, that a release upgrades from (MariaDB 10.11). */
  previousLtsImage?: string;
}

export const FLAVORS: Record<Flavor, FlavorInfo> = {
  mysql: {
    client: "mysql",
    replica: "REPLICA",
    readOnlyQuery: "SELECT @@read_only, @@super_read_only",
    gtidQuery: "SELECT @@gtid_executed",
    hasGtidsQuery: (target) => `SELECT GTID_SUBSET('${target.replace(/\n/g, "")}', @@gtid_executed)`,
    imageEnv: "MYSQL_IMAGE",
    localImage: pins.LOCAL_IMAGE_MYSQL_9_7,
    backupPort: false,
  },
  mariadb: {
    client: "mariadb",
    replica: "SLAVE",
    readOnlyQuery: "SELECT @@read_only, 0",
    gtidQuery: "SELECT @@gtid_binlog_pos",
    hasGtidsQuery: (target) => `SELECT @@gtid_slave_pos = '${target}'`,
    imageEnv: "MARIADB_IMAGE",
    localImage: pins.LOCAL_IMAGE_MARIADB_11_8,
    backupPort: true,
    previousLtsImage: process.env.MARIADB_10_IMAGE ?? pins.LOCAL_IMAGE_MARIADB_10_11,
  },
};
