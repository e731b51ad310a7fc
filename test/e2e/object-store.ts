// A real S3-compatible server in a test namespace, for the backups that go to S3 (backup.s3,
// restore.from.s3): versitygw (infra/images/object-store/build.sh) over HTTPS, its certificate
// signed by a CA made here (test/helpers/object-store.ts), the bucket a directory of its posix backend. What a user of the chart
// brings (the bucket, a Secret with the keys, the endpoint's CA) is made the way they would.
import { randomBytes } from "node:crypto";
import { apply, type Kube, kubectl, RESTRICTED_POD } from "../../scripts/lib/kube.js";
import { versions } from "../../scripts/lib/tools.js";
import { objectStoreCertificates } from "../helpers/object-store.js";

/** What the chart is given to reach the server: the values under backup.s3 / restore.from.s3. */
export const OBJECT_STORE = {
  service: "object-store",
  port: 7070,
  bucket: "db-backups",
  keysSecret: "s3-keys",
  caSecret: "s3-ca",
} as const;

/** backup.s3 / restore.from.s3 values (under KEY) that point at the server of OBJECT_STORE with PREFIX. */
export function s3Values(key: "backup.s3" | "restore.from.s3", prefix: string): Record<string, string> {
  return {
    [`${key}.bucket`]: OBJECT_STORE.bucket,
    [`${key}.prefix`]: prefix,
    [`${key}.endpoint`]: `https://${OBJECT_STORE.service}:${OBJECT_STORE.port}`,
    [`${key}.existingSecret`]: OBJECT_STORE.keysSecret,
    [`${key}.caSecret`]: OBJECT_STORE.caSecret,
  };
}

/** The server, its bucket, the keys Secret and the CA Secret in NAMESPACE; returns once it answers. */
export async function startObjectStore(k: Kube, namespace: string): Promise<void> {
  const pins = versions();
  const s = OBJECT_STORE.service;
  const tls = await objectStoreCertificates([s, `${s}.${namespace}`, `${s}.${namespace}.svc`, `${s}.${namespace}.svc.cluster.local`]);
  const keys = { "access-key-id": `test${randomBytes(6).toString("hex")}`, "secret-access-key": randomBytes(18).toString("hex") };
  const secret = (name: string, data: Record<string, string>) => ({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: data });
  const labels = { "app.kubernetes.io/name": OBJECT_STORE.service };
  const container = { ...RESTRICTED_POD.container, readOnlyRootFilesystem: true };
  const pod = { ...RESTRICTED_POD.pod, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534 };
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: OBJECT_STORE.service, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          securityContext: pod,
          // The bucket: a directory of the posix backend (the chart never creates buckets).
          initContainers: [{ name: "bucket", image: pins.LOCAL_IMAGE_RCLONE, imagePullPolicy: "IfNotPresent", command: ["mkdir", "-p", `/data/${OBJECT_STORE.bucket}`], securityContext: container, volumeMounts: [{ name: "data", mountPath: "/data" }] }],
          containers: [{
            name: "versitygw",
            image: pins.LOCAL_IMAGE_OBJECT_STORE,
            imagePullPolicy: "IfNotPresent",
            args: ["--port", `:${OBJECT_STORE.port}`, "--cert", "/tls/tls.crt", "--key", "/tls/tls.key", "posix", "/data"],
            env: [
              { name: "ROOT_ACCESS_KEY_ID", valueFrom: { secretKeyRef: { name: OBJECT_STORE.keysSecret, key: "access-key-id" } } },
              { name: "ROOT_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: OBJECT_STORE.keysSecret, key: "secret-access-key" } } },
            ],
            ports: [{ containerPort: OBJECT_STORE.port }],
            readinessProbe: { tcpSocket: { port: OBJECT_STORE.port }, periodSeconds: 2 },
            resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "512Mi" } },
            securityContext: container,
            volumeMounts: [{ name: "data", mountPath: "/data" }, { name: "tls", mountPath: "/tls", readOnly: true }, { name: "tmp", mountPath: "/tmp" }],
          }],
          volumes: [{ name: "data", emptyDir: {} }, { name: "tmp", emptyDir: {} }, { name: "tls", secret: { secretName: "object-store-tls" } }],
        },
      },
    },
  };
  const service = { apiVersion: "v1", kind: "Service", metadata: { name: OBJECT_STORE.service, labels }, spec: { selector: labels, ports: [{ port: OBJECT_STORE.port, targetPort: OBJECT_STORE.port }] } };
  const list = {
    apiVersion: "v1",
    kind: "List",
    items: [
      secret(OBJECT_STORE.keysSecret, keys),
      secret(OBJECT_STORE.caSecret, { "ca.crt": tls.ca }),
      secret("object-store-tls", { "tls.crt": tls.cert, "tls.key": tls.key }),
      deployment,
      service,
    ],
  };
  await apply(k, namespace, JSON.stringify(list));
  await kubectl(k, ["rollout", "status", "-n", namespace, `deployment/${OBJECT_STORE.service}`, "--timeout=180s"], { timeoutMs: 200_000 });
}
