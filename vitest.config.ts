import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["core/**/*.test.ts", "plugins/**/*.test.ts", "proxy/**/*.test.ts", "control/**/*.test.ts",
      "adapters/**/*.test.ts", "cli/**/*.test.ts", "edge/**/*.test.ts", "test-support/**/*.test.ts"],
    testTimeout: 20_000,
  },
});
