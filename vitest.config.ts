// Test tiers (README "Tests"): fast needs only the pinned tools; local runs the in-pod
// scripts against real database servers in Docker; publish packages the chart and serves it
// from a chart repository and an OCI registry on loopback; cluster and e2e need a kind cluster.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "fast",
          include: ["test/unit/**/*.test.ts", "test/render/**/*.test.ts", "test/scripts/**/*.test.ts"],
          exclude: ["test/scripts/**/*.servers.test.ts"],
          testTimeout: 60_000,
          // Three files at a time on two cores: they mostly wait on helm, shellcheck and bash
          // (measured: 142 s with one worker, 80 s with three, 79 s with four).
          maxWorkers: 3,
        },
      },
      {
        test: {
          // Packaging, signing, a chart repository and an OCI registry on loopback (issue 6).
          name: "publish",
          include: ["test/publish/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "local",
          include: ["test/scripts/**/*.servers.test.ts"],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          // Two files side by side: their servers wait on starts, clones and polls more than on CPU,
          // and each file's containers are on a network of its own.
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: "cluster",
          include: ["test/cluster/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // One file per flavor, each with releases in namespaces of its own: the two run side by
          // side (the node's pods wait on disks, clones and probes far more than on CPU).
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 1_800_000,
          hookTimeout: 1_800_000,
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
    ],
  },
});
