// The bookkeeping that portable-vitest's expect() shares with its runner: the running test's
// assertion count and the promise assertions (.resolves/.rejects) it must await before passing.

/** The portable-vitest error for a failed expectation. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Thrown when a test uses a vitest feature this shim does not implement, so it fails loudly. */
export class UnsupportedError extends Error {
  override name = "UnsupportedError";
  constructor(feature: string) {
    super(`${feature} is not supported by portable-vitest (test-support/portable-vitest.ts); ` +
      "use a supported feature or move the test to a *.node.test.ts file");
  }
}

export interface TestState {
  assertions: number;
  expectedAssertions: number | undefined;
  requireAssertions: boolean;
  /** Promise assertions made in the test; each settles (never rejects) once checked. */
  readonly pending: Promise<void>[];
  /** Failed promise assertions; each tells, when asked after the test, whether the test ignored it. */
  readonly asyncErrors: (() => { error: unknown } | undefined)[];
}

/** The test that is running now (tests run one at a time), or undefined outside a test. */
export const testState: { current: TestState | undefined } = { current: undefined };

export function createTestState(): TestState {
  return { assertions: 0, expectedAssertions: undefined, requireAssertions: false, pending: [], asyncErrors: [] };
}
