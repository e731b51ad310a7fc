// The real clone-and-replicate path of the in-pod scripts, between real servers in Docker
// containers (images built from Debian packages), before any Kubernetes cluster exists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerAvailable, imageExists, LocalPods } from "../helpers/docker-pods.js";
import { versions } from "../../scripts/lib/tools.js";
import { waitFor } from "../../scripts/lib/wait.js";
import { type Flavor, testPasswords } from "../helpers/pod-scripts.js";

const pins = versions();
const flavors: { name: string; flavor: Flavor; image: string }[] = [
  { name: "MySQL 9.7", flavor: "mysql", image: process.env.MYSQL_IMAGE ?? pins.LOCAL_IMAGE_MYSQL_9_7 },
  { name: "MariaDB 11.8", flavor: "mariadb", image: process.env.MARIADB_IMAGE ?? pins.LOCAL_IMAGE_MARIADB_11_8 },
  { name: "MariaDB 10.11", flavor: "mariadb", image: process.env.MARIADB_10_IMAGE ?? pins.LOCAL_IMAGE_MARIADB_10_11 },
];

for (const f of flavors) {
  describe(`${f.name}: scripts between real servers`, () => {
    const pods = new LocalPods(f.flavor, f.image, {
      initSql: "CREATE TABLE appdb.seed (id INT PRIMARY KEY);\nINSERT INTO appdb.seed VALUES (1);\n",
      // initSqlSecret's SQL, the place for statements that hold passwords.
      initSqlSecret: "CREATE USER 'reporter'@'%' IDENTIFIED BY 'rep0rter-pass';\nGRANT SELECT ON appdb.* TO 'reporter'@'%';\n",
    });
    const timings: Record<string, number> = {};

    beforeAll(async () => {
      if (!(await dockerAvailable())) throw new Error("Docker is not running: run bash infra/docker/ensure-docker.sh");
      if (!(await imageExists(f.image))) throw new Error(`image ${f.image} is missing: run bash infra/images/db/build.sh`);
      await pods.createNetwork();
    });

    afterAll(async () => {
      console.log(`${f.name} timings (ms): ${JSON.stringify(timings)}`);
      await pods.destroy();
    });

    it("initialises the primary once, with its accounts and the init SQL (the ConfigMap's, then the Secret's)", async () => {
      await pods.start(0);
      timings.primaryReady = await pods.waitReady(0);
      expect(await pods.sql(0, "SELECT id FROM appdb.seed")).toBe("1");
      expect(await pods.sql(0, "SELECT COUNT(*) FROM mysql.user WHERE user = 'reporter'")).toBe("1");
      expect(await pods.sql(0, "SELECT @@server_id, @@read_only")).toBe("100\t0");
      expect(await pods.sql(0, "SELECT COUNT(*) FROM mysql.user WHERE user = ''")).toBe("0");
      await pods.sql(0, "CREATE TABLE appdb.t (id INT PRIMARY KEY, v VARCHAR(64)); INSERT INTO appdb.t VALUES (1,'before clones'),(2,'b');");
    });

    it("pod 1 clones the primary before its first start, then replicates from it", async () => {
      await pods.start(1);
      timings.replica1Ready = await pods.waitReady(1);
      expect(await pods.logs(1)).toMatch(/clone completed from db-0\.db/);
      expect(await pods.sql(1, "SELECT COUNT(*) FROM appdb.t")).toBe("2");
      expect(await pods.sql(1, "SELECT @@server_id, @@read_only")).toBe("101\t1");
    });

    it("pod 2 clones pod 1, a replica, not the primary", async () => {
      await pods.sql(0, "INSERT INTO appdb.t VALUES (3,'before pod 2');");
      await pods.start(2);
      timings.replica2Ready = await pods.waitReady(2);
      expect(await pods.logs(2)).toMatch(/clone completed from db-1\.db/);
      // The clone's record in the data directory: donor and bytes (and for MariaDB the GTID
      // position it starts replicating from; MySQL auto-positions).
      const record = (await pods.bash(2, "cat $DATADIR/mysql-chart-clone.info")).stdout;
      expect(record).toMatch(/^donor=db-1\.db\.local$/m);
      expect(record).toMatch(/^bytes=[1-9]\d+$/m);
      if (f.flavor === "mariadb") expect(record).toMatch(/^gtid=\S+$/m);
      expect(await pods.sql(2, "SELECT COUNT(*) FROM appdb.t")).toBe("3");
    });

    it("a write on the primary is readable on every replica", async () => {
      await pods.sql(0, "INSERT INTO appdb.t VALUES (4,'after clones');");
      timings.replicateTo1 = await pods.waitFor(1, "SELECT v FROM appdb.t WHERE id = 4", "after clones");
      timings.replicateTo2 = await pods.waitFor(2, "SELECT v FROM appdb.t WHERE id = 4", "after clones");
    });

    it("replicas refuse writes from applications; the primary accepts them", async () => {
      const onReplica = await pods.appSql(1, "INSERT INTO appdb.t VALUES (100,'x');");
      expect(onReplica.exitCode).not.toBe(0);
      expect(onReplica.stderr).toMatch(/read.only|1290/i);
      const onPrimary = await pods.appSql(0, "INSERT INTO appdb.t VALUES (101,'app');");
      expect(onPrimary.exitCode, onPrimary.stderr).toBe(0);
      const rootOverNetwork = await pods.appSql(2, "INSERT INTO appdb.t VALUES (102,'root');", "root");
      expect(rootOverNetwork.exitCode, "root over the network writes on a replica").not.toBe(0);
      expect(rootOverNetwork.stderr).toMatch(/read.only|1290/i);
      const rootOnPrimary = await pods.appSql(0, "INSERT INTO appdb.t VALUES (103,'root on primary');", "root");
      expect(rootOnPrimary.exitCode, rootOnPrimary.stderr).toBe(0);
    });

    it("replication verifies the primary against the release's CA and presents the release's certificate", async () => {
      const fields = f.flavor === "mysql"
        ? ["Source_SSL_Allowed", "Source_SSL_CA_File", "Source_SSL_Verify_Server_Cert", "Source_Host"]
        : ["Master_SSL_Allowed", "Master_SSL_CA_File", "Master_SSL_Verify_Server_Cert", "Master_Host"];
      const status = f.flavor === "mysql" ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS";
      for (const i of [1, 2]) {
        const r = await pods.bash(i, `status_fields "$CLIENT_CNF" "${status}" ${fields.join(" ")}`);
        expect(r.stdout.trim(), `db-${i}`).toBe("Yes\t/etc/mysql-chart/tls/ca.crt\tYes\tdb-0.db.local");
      }
    });

    it("the replication and clone accounts, and root over the network, refuse the right password without the release's certificate", async () => {
      const accounts = [["replicator", "mysql-replication-password"], ["root", "mysql-root-password"]];
      if (f.flavor === "mysql") accounts.push(["clone", "mysql-clone-password"]);
      for (const [user, key] of accounts) {
        const plain = await pods.bash(2, `write_client_cnf /tmp/plain.cnf ${user} "$(read_secret ${key})" db-0.db.local 3306; sql /tmp/plain.cnf --ssl-ca=$TLS_DIR/ca.crt <<<"SELECT 1"`);
        expect(plain.exitCode, `${user} without a certificate`).not.toBe(0);
        expect(plain.stderr).toMatch(/Access denied/);
        const member = await pods.bash(2, `write_member_cnf /tmp/member.cnf ${user} "$(read_secret ${key})" db-0.db.local; sql /tmp/member.cnf <<<"SELECT 1"`);
        expect(member.exitCode, `${user} with the release's certificate: ${member.stderr}`).toBe(0);
      }
    });

    it("the probes log in as the monitor account, which reads the replication status and nothing else", async () => {
      const grants = f.flavor === "mysql" ? "GRANT REPLICATION CLIENT ON *.* TO `mysql_chart_monitor`@`localhost`" : "GRANT SLAVE MONITOR ON *.* TO `mysql_chart_monitor`@`localhost`";
      for (const i of [0, 1, 2]) {
        const probe = await pods.bash(i, `rm -f "$RUN_DIR/client-monitor.cnf"; /opt/mysql-chart/scripts/probe.sh readiness && grep -c mysql_chart_monitor "$RUN_DIR/client-monitor.cnf"`);
        expect(probe.stdout.trim(), `db-${i}: ${probe.stderr}`).toBe("1");
        const shown = (await pods.sql(i, "SHOW GRANTS FOR 'mysql_chart_monitor'@'localhost'")).replace(/ IDENTIFIED BY PASSWORD '[^']*'/, "");
        expect(shown.split("\n")).toEqual([grants]);
        const status = f.flavor === "mysql" ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS";
        const reads = await pods.bash(i, `sql "$RUN_DIR/client-monitor.cnf" <<<"${status}" >/dev/null && echo ok; sql "$RUN_DIR/client-monitor.cnf" <<<"SELECT COUNT(*) FROM appdb.t" || echo denied`);
        expect(reads.stdout.trim(), `db-${i}`).toBe("ok\ndenied");
      }
    });

    it("the exporter's account reads the replication status and InnoDB's status, not the data, over the local socket only", async () => {
      // MariaDB shows the connection limit with the grant, MySQL with the account.
      const grants =
        f.flavor === "mysql" ? "GRANT PROCESS, REPLICATION CLIENT ON *.* TO `mysql_chart_metrics`@`localhost`" : "GRANT PROCESS, SLAVE MONITOR ON *.* TO `mysql_chart_metrics`@`localhost` WITH MAX_USER_CONNECTIONS 3";
      const status = f.flavor === "mysql" ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS";
      for (const i of [0, 2]) {
        const shown = (await pods.sql(i, "SHOW GRANTS FOR 'mysql_chart_metrics'@'localhost'")).replace(/ IDENTIFIED BY PASSWORD '[^']*'/, "");
        expect(shown.split("\n")).toEqual([grants]);
        const reads = await pods.bash(i, `write_client_cnf /tmp/metrics.cnf mysql_chart_metrics "$(read_secret mysql-metrics-password)"; sql /tmp/metrics.cnf <<<"${status}; SHOW GLOBAL STATUS LIKE 'Uptime'" >/dev/null && echo ok; sql /tmp/metrics.cnf <<<"SELECT COUNT(*) FROM appdb.t" || echo denied`);
        expect(reads.stdout.trim(), `db-${i}: ${reads.stderr}`).toBe("ok\ndenied");
      }
    });

    it("re-reading the certificate files on a replica writes nothing to its binary log (no transaction the primary lacks)", async () => {
      const executed = f.flavor === "mysql" ? "SELECT @@GLOBAL.gtid_executed" : "SELECT @@GLOBAL.gtid_binlog_state";
      const before = await pods.sql(1, executed);
      const r = await pods.bash(1, `sql "$CLIENT_CNF" <<<"$TLS_RELOAD_SQL"`);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(await pods.sql(1, executed)).toBe(before);
    });

    it("uses row-based binlogs and distinct server ids", async () => {
      for (const i of [0, 1, 2]) {
        expect(await pods.sql(i, "SELECT @@binlog_format")).toBe("ROW");
        expect(await pods.sql(i, "SELECT @@server_id")).toBe(String(100 + i));
      }
    });

    it("a restarted replica keeps its data, does not clone again, and catches up", async () => {
      await pods.stop(1);
      await pods.sql(0, "INSERT INTO appdb.t VALUES (5,'while pod 1 was down');");
      await pods.restart(1);
      timings.replica1Restart = await pods.waitReady(1);
      const logs = await pods.logs(1);
      expect(logs).toMatch(/exists: keeping it/);
      expect(logs.match(/clone completed/g)?.length).toBe(1);
      timings.catchUpAfterRestart = await pods.waitFor(1, "SELECT v FROM appdb.t WHERE id = 5", "while pod 1 was down");
      expect(await pods.sql(1, "SELECT @@server_id")).toBe("101");
    });

    if (f.flavor === "mariadb") {
      // Pod 1 was just restarted: its sidecar serves backups again once its server is up.
      const backupServerUp = () =>
        waitFor("db-1's backup server", async () => (await pods.bash(2, "(exec 3<>/dev/tcp/db-1.db.local/3307)")).exitCode === 0, { timeoutMs: 60_000, intervalMs: 500 });

      it("refuses to stream a backup to a peer that does not know the clone password", async () => {
        await backupServerUp();
        const r = await pods.bash(2, `receive_backup /tmp/stolen db-1.db.local 3307 wrong-password; echo "rc=$?"`);
        expect(r.stdout + r.stderr).not.toMatch(/rc=0/);
        const files = await pods.bash(2, "ls /tmp/stolen 2>/dev/null | wc -l");
        expect(files.stdout.trim()).toBe("0");
        expect(await pods.logs(1)).toMatch(/refused .*wrong answer to the challenge/);
      });

      it("refuses to stream a backup to a peer whose certificate another CA signed, even with the clone password", async () => {
        await backupServerUp();
        const other = `mkdir -p /tmp/other && cd /tmp/other
          openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=db-ca 2>/dev/null
          openssl req -newkey rsa:2048 -nodes -keyout tls.key -out tls.csr -subj /CN=db 2>/dev/null
          printf 'subjectAltName=DNS:*.db.local\\n' >ext
          openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out tls.crt -days 1 -extfile ext 2>/dev/null
          TLS_DIR=/tmp/other receive_backup /tmp/stolen-2 db-1.db.local 3307 "$(read_secret mysql-clone-password)"; echo "rc=$?"`;
        const r = await pods.bash(2, other);
        expect(r.stdout + r.stderr).not.toMatch(/rc=0/);
        expect(r.stderr).toMatch(/no challenge from db-1\.db\.local:3307 \(TLS: .*(certificate|alert)/i);
        const files = await pods.bash(2, "ls /tmp/stolen-2 2>/dev/null | wc -l");
        expect(files.stdout.trim()).toBe("0");
      });

      it("detects a backup stream cut short and never prepares or starts from it", async () => {
        // A donor that answers the challenge properly, then sends only the first half of a real backup.
        const fake = `
          mkdir -p /tmp/fake && cd /tmp/fake
          { printf '\\n[mariadb-backup]\\nuser=%s\\npassword=%s\\nsocket=%s\\n' "$CLONE_USER" "$(read_secret mysql-clone-password)" "$RUN_DIR/mysqld.sock"; } >/tmp/fake/b.cnf
          cat "$MY_CNF" /tmp/fake/b.cnf >/tmp/fake/full.cnf
          mariadb-backup --defaults-file=/tmp/fake/full.cnf --backup --stream=mbstream --target-dir=/tmp/fake 2>/dev/null >/tmp/fake/full.xb
          head -c $(( $(stat -c %s /tmp/fake/full.xb) / 2 )) /tmp/fake/full.xb >/tmp/fake/half.xb
          cat >/tmp/fake/serve.sh <<'SH'
#!/usr/bin/env bash
. /opt/mysql-chart/scripts/lib.sh; . /opt/mysql-chart/scripts/flavor.sh
n=00112233445566778899aabbccddeeff; echo "$n"; read -r a; cat /tmp/fake/half.xb
SH
          (socat "OPENSSL-LISTEN:3399,reuseaddr,fork,cert=$TLS_DIR/tls.crt,key=$TLS_DIR/tls.key,cafile=$TLS_DIR/ca.crt,verify=1" "EXEC:bash /tmp/fake/serve.sh" >/dev/null 2>/tmp/fake/server.log &)
          sleep 1
          BACKUP_PORT=3399 DONOR_WAIT_SECONDS=10 flavor_clone_into /tmp/clone-target db-2.db.local && echo CLONED || echo "REFUSED"
          ls /tmp/clone-target | grep -c ibdata || true
          cat /tmp/fake/server.log >&2
        `;
        const r = await pods.bash(2, fake);
        expect(r.stdout, r.stderr).toMatch(/REFUSED/);
        expect(r.stderr).not.toMatch(/no challenge/);
        expect(r.stderr).toMatch(/backup stream from db-2\.db\.local failed|incomplete/);
        expect(r.stderr).not.toMatch(/preparing the backup/);
      });
    }

    it("a root and replication password rotated in the Secret reaches every server; probes and replication never stop", async () => {
      const t0 = Date.now();
      const notReady: string[] = [];
      let done = false;
      const sampler = (async () => {
        while (!done) {
          for (const i of [0, 1, 2]) {
            const r = await pods.bash(i, "/opt/mysql-chart/scripts/probe.sh readiness");
            if (r.exitCode !== 0) notReady.push(`db-${i}: ${(r.stdout + r.stderr).trim()}`);
          }
        }
      })();
      try {
        pods.setSecret("mysql-root-password", "root-after-rotation");
        pods.setSecret("mysql-replication-password", "repl-after-rotation");
        for (const i of [0, 1, 2]) {
          await pods.waitFor(i, "SELECT 1", "1");
          await waitFor(`db-${i} to take root's new password`, async () => (await pods.appSql(i, "SELECT 1", "root")).exitCode === 0, { timeoutMs: 60_000, intervalMs: 1000 });
        }
        for (const i of [1, 2]) {
          await waitFor(`db-${i} to re-point replication`, async () => /re-pointing replication with it/.test(await pods.logs(i)), { timeoutMs: 60_000, intervalMs: 1000 });
        }
      } finally {
        done = true;
        await sampler;
      }
      timings.passwordRotation = Date.now() - t0;
      expect(notReady, "readiness failures during the rotation").toEqual([]);
      const oldLogin = await pods.bash(0, `old=$(cat); write_client_cnf /tmp/old.cnf root "$old" db-0.db 3306; sql /tmp/old.cnf <<<"SELECT 1"`, testPasswords["mysql-root-password"]);
      expect(oldLogin.exitCode, "the old root password still works").not.toBe(0);
      const restart = f.flavor === "mysql" ? "STOP REPLICA IO_THREAD; START REPLICA IO_THREAD;" : "STOP SLAVE IO_THREAD; START SLAVE IO_THREAD;";
      for (const i of [1, 2]) await pods.sql(i, restart);
      await pods.sql(0, "INSERT INTO appdb.t VALUES (6,'after rotation');");
      for (const i of [1, 2]) await pods.waitFor(i, "SELECT v FROM appdb.t WHERE id = 6", "after rotation");
    });

    it("pod 0 on a lost volume copies a replica and continues its GTID history; the replicas go on without a re-clone", async () => {
      const executed = f.flavor === "mysql" ? "SELECT @@GLOBAL.gtid_executed" : "SELECT @@GLOBAL.gtid_binlog_state";
      // MariaDB: a second GTID domain in the history, which pod 0 must carry on too.
      if (f.flavor === "mariadb") await pods.sql(0, "SET SESSION gtid_domain_id = 1; INSERT INTO appdb.t VALUES (70,'in domain 1');");
      const rows = await pods.sql(0, "SELECT COUNT(*) FROM appdb.t");
      for (const i of [1, 2]) await pods.waitFor(i, "SELECT COUNT(*) FROM appdb.t", rows);
      await pods.loseVolume(0);
      await pods.start(0);
      timings.primaryRecovery = await pods.waitReady(0);
      // The sidecar's first turn on a primary writes the chart's accounts (binary-logged): wait for
      // it, so the GTID sets compared below are final.
      await pods.waitLog(0, /the accounts \S+, \S+ and \S+ exist/);
      expect(await pods.logs(0)).toMatch(/pod 0 seeded from db-[12]\.db/);
      expect(await pods.sql(0, "SELECT COUNT(*) FROM appdb.t")).toBe(rows);
      await pods.sql(0, "INSERT INTO appdb.t VALUES (7,'after pod 0 recovered');");
      for (const i of [1, 2]) {
        await pods.waitFor(i, "SELECT v FROM appdb.t WHERE id = 7", "after pod 0 recovered");
        expect((await pods.logs(i)).match(/clone completed/g)?.length, `db-${i} cloned again`).toBe(1);
        expect(await pods.sql(i, executed)).toBe(await pods.sql(0, executed));
      }
      if (f.flavor === "mariadb") {
        // The next transaction followed the replicas' history (no sequence restarting at 1 under
        // server 100), and the first-start SQL is gone and harmless when run again.
        expect(await pods.sql(0, "SELECT @@GLOBAL.gtid_binlog_pos")).not.toMatch(/^0-100-1$/);
        expect(await pods.logs(0)).toMatch(/removed it/);
        const state = await pods.sql(0, executed);
        // The client ends statements at ';', so it gets the compound statement under another delimiter.
        const again = await pods.bash(0, `{ continue_history_sql '0-100-1' | sed 's/;$//'; echo '//'; } | sql "$CLIENT_CNF" --delimiter=//`);
        expect(again.exitCode, again.stderr).toBe(0);
        expect(await pods.sql(0, executed)).toBe(state);
        expect(await pods.sql(0, "SELECT @@GLOBAL.read_only")).toBe("0");
      }
    });

    it("every table's checksum on every replica equals the primary's", async () => {
      await pods.waitFor(2, "SELECT COUNT(*) FROM appdb.t", await pods.sql(0, "SELECT COUNT(*) FROM appdb.t"));
      const sum = (i: number) => pods.sql(i, "CHECKSUM TABLE appdb.t, appdb.seed");
      const primary = await sum(0);
      expect(await sum(1)).toBe(primary);
      expect(await sum(2)).toBe(primary);
    });
  });
}
