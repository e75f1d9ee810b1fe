// Proves the runtime matrix (scripts/runtime-tests.mjs) is not vacuous: it runs a fixture with known
// outcomes in real Deno and real workerd and checks that each runtime reports exactly those outcomes.
import { describe, expect, it } from "vitest";

interface Summary {
  runtime: string;
  passed: number;
  failed: number;
  failures: { name: string; error: string }[];
  error?: string;
}
interface RuntimeTests {
  runRuntimeTests(options: { files: string[]; print: (line: string) => void }): Promise<Summary[]>;
  collectSuites(): Promise<string[]>;
}

const scriptPath = "../scripts/runtime-tests.mjs";
const load = async (): Promise<RuntimeTests> => (await import(scriptPath)) as RuntimeTests;
const fixture = "test-support/runtime-fixtures/mixed-outcomes.fixture.ts";

describe("runtime-tests.mjs", () => {
  it("reports the fixture's passes and failures in both Deno and workerd", async () => {
    const { runRuntimeTests } = await load();
    const summaries = await runRuntimeTests({ files: [fixture], print: () => undefined });
    expect(summaries.map((summary) => summary.runtime)).toEqual(["deno", "workerd"]);
    for (const summary of summaries) {
      expect(summary.error).toBeUndefined();
      expect(summary.passed).toBe(3);
      expect(summary.failed).toBe(4);
      const byName = (suffix: string) => summary.failures.find((failure) => failure.name.endsWith(suffix))?.error;
      expect(byName("fixture > fails")).toBe("AssertionError: expected 1 to be 2");
      expect(byName("uses an unsupported matcher")).toMatch(/not supported by portable-vitest/);
      expect(byName("ignores a failing promise assertion")).toBe('AssertionError: expected "a" to be "b"');
      expect(summary.failures.find((failure) => failure.name.startsWith("unhandled rejection"))?.error)
        .toBe("Error: stray rejection");
    }
  }, 120_000);

  it("collects portable suites but never Node-only ones", async () => {
    const { collectSuites } = await load();
    const suites = await collectSuites();
    expect(suites).toContain("test-support/portable/web-platform.test.ts");
    expect(suites.some((path) => path.endsWith(".node.test.ts"))).toBe(false);
    expect(suites.every((path) => /^(core|plugins|control\/admin|adapters\/telemetry|proxy\/xds|test-support\/portable)\//.test(path))).toBe(true);
    expect(suites.some((path) => path.startsWith("adapters/telemetry/node/") || path.startsWith("adapters/telemetry/bench/"))).toBe(false);
  });
});
