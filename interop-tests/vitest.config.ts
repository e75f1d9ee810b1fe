// Vitest configuration for the interop suites: real peers, one suite file at a time (2 cores), and
// timeouts generous enough for JVM and Go processes to start on a busy machine.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["interop-tests/**/*.test.ts"],
    fileParallelism: false,
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
  },
});
