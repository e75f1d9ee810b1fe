// portable-vitest's collector and runner: describe/it/hooks register a tree while a test file is
// evaluated, and run() executes it one test at a time (hooks in vitest's order, per-test timeouts,
// pending .resolves/.rejects assertions awaited) and returns plain JSON-able results.
import { format } from "./format.ts";
import { AssertionError, createTestState, testState, UnsupportedError, type TestState } from "./test-state.ts";

export type TestFunction = (...args: never[]) => unknown;
type Hook = () => unknown;
type Options = number | { timeout?: number } | undefined;

interface TestNode { readonly kind: "test"; readonly name: string; readonly fn: TestFunction; readonly timeout: number | undefined }
interface SuiteNode {
  readonly kind: "suite";
  readonly name: string;
  readonly children: (TestNode | SuiteNode)[];
  readonly beforeAll: Hook[];
  readonly afterAll: Hook[];
  readonly beforeEach: Hook[];
  readonly afterEach: Hook[];
  collectError?: { readonly error: unknown };
}

export interface Failure { readonly name: string; readonly error: string; readonly stack?: string }
export interface RunResult { passed: number; failed: number; readonly failures: Failure[] }
export interface RunOptions {
  /** Prepended to every test name, e.g. the test file's path. */
  readonly prefix?: string;
  /** Default per-test and per-hook timeout in milliseconds (vitest.config.ts uses 20 s). */
  readonly timeout?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const SUPPORTED_OPTIONS = new Set(["timeout"]);

const createSuite = (name: string): SuiteNode =>
  ({ kind: "suite", name, children: [], beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] });

let root = createSuite("");
let current = root;
let running = false;

function titleOf(name: unknown): string {
  return typeof name === "function" ? name.name : String(name);
}

function timeoutOf(options: unknown): number | undefined {
  if (typeof options === "number") return options;
  if (typeof options !== "object" || options === null) return undefined;
  for (const [key, value] of Object.entries(options)) {
    if (!SUPPORTED_OPTIONS.has(key) && value !== undefined && value !== false) {
      throw new UnsupportedError(`the test option "${key}"`);
    }
  }
  return (options as { timeout?: number }).timeout;
}

/** Accepts vitest's (name, fn, options) and (name, options, fn) argument orders. */
function normalize(a: unknown, b: unknown): { fn: TestFunction | undefined; options: Options } {
  if (typeof a === "function") return { fn: a as TestFunction, options: b as Options };
  return { fn: b as TestFunction | undefined, options: a as Options };
}

function ensureCollecting(what: string): void {
  if (running) throw new UnsupportedError(`calling ${what} while tests are running`);
}

export function registerSuite(name: unknown, a?: unknown, b?: unknown): void {
  ensureCollecting("describe()");
  const { fn, options } = normalize(a, b);
  if (fn === undefined) throw new UnsupportedError("describe() without a function (todo suites)");
  timeoutOf(options);
  const suite = createSuite(titleOf(name));
  const parent = current;
  parent.children.push(suite);
  current = suite;
  try {
    const result = (fn as () => unknown)();
    if (typeof (result as { then?: unknown } | null)?.then === "function") {
      (result as Promise<unknown>).then(() => undefined, () => undefined);
      throw new UnsupportedError("an async describe() callback");
    }
  } catch (error) {
    suite.collectError = { error };
  } finally {
    current = parent;
  }
}

export function registerTest(name: unknown, a?: unknown, b?: unknown): void {
  ensureCollecting("it()");
  const { fn, options } = normalize(a, b);
  if (fn === undefined) throw new UnsupportedError("it() without a function (todo tests)");
  current.children.push({ kind: "test", name: titleOf(name), fn, timeout: timeoutOf(options) });
}

export function registerHook(kind: "beforeAll" | "afterAll" | "beforeEach" | "afterEach", fn: Hook): void {
  ensureCollecting(`${kind}()`);
  if (typeof fn !== "function") throw new TypeError(`${kind}() expects a function`);
  current[kind].push(fn);
}

async function withTimeout(fn: () => unknown, ms: number, label: string): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(fn), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface RunContext { readonly result: RunResult; readonly timeout: number; lastTest: string }

function fail(context: RunContext, name: string, error: unknown): void {
  context.result.failed += 1;
  const text = error instanceof Error ? `${error.name}: ${error.message}` : `thrown non-error: ${format(error)}`;
  const stack = error instanceof Error && typeof error.stack === "string"
    ? error.stack.split("\n").slice(1).filter((line) => !line.includes("test-support/portable-vitest")).slice(0, 6).join("\n")
    : undefined;
  context.result.failures.push(stack ? { name, error: text, stack } : { name, error: text });
}

function hasTests(suite: SuiteNode): boolean {
  return suite.children.some((child) => child.kind === "test" || hasTests(child));
}

async function drain(state: TestState): Promise<void> {
  while (state.pending.length > 0) await Promise.all(state.pending.splice(0));
  for (const ignored of state.asyncErrors) {
    const failure = ignored();
    if (failure !== undefined) throw failure.error;
  }
}

function checkAssertionCount(state: TestState): void {
  if (state.expectedAssertions !== undefined && state.assertions !== state.expectedAssertions) {
    throw new AssertionError(`expected ${state.expectedAssertions} assertions to be called, but ${state.assertions} were`);
  }
  if (state.requireAssertions && state.assertions === 0) {
    throw new AssertionError("expected at least one assertion to be called, but none were");
  }
}

async function runTest(test: TestNode, name: string, beforeEach: Hook[], afterEach: Hook[], context: RunContext): Promise<void> {
  const state = createTestState();
  testState.current = state;
  context.lastTest = name;
  let firstError: { error: unknown } | undefined;
  const teardowns: Hook[] = [];
  try {
    for (const hook of beforeEach) {
      const teardown = await withTimeout(hook, context.timeout, "beforeEach hook");
      if (typeof teardown === "function") teardowns.unshift(teardown as Hook);
    }
    const taskContext = { task: { name: test.name }, skip: () => { throw new UnsupportedError("context.skip()"); } };
    await withTimeout(async () => {
      await (test.fn as (context: unknown) => unknown)(taskContext);
      await drain(state);
    }, test.timeout ?? context.timeout, `test "${test.name}"`);
    checkAssertionCount(state);
  } catch (error) {
    firstError = { error };
  }
  for (const hook of [...teardowns, ...afterEach]) {
    try {
      await withTimeout(hook, context.timeout, "afterEach hook");
    } catch (error) {
      firstError ??= { error };
    }
  }
  testState.current = undefined;
  // Let the runtime dispatch unhandledrejection events now, so they are blamed on this test.
  await new Promise((resolve) => setTimeout(resolve, 0));
  if (firstError === undefined) context.result.passed += 1;
  else fail(context, name, firstError.error);
}

async function runSuite(suite: SuiteNode, path: readonly string[], beforeEach: Hook[], afterEach: Hook[],
  context: RunContext): Promise<void> {
  const names = suite.name === "" ? path : [...path, suite.name];
  const title = names.join(" > ") || "(file)";
  if (suite.collectError !== undefined) {
    fail(context, `${title} (while collecting)`, suite.collectError.error);
    return;
  }
  if (!hasTests(suite)) return;
  const teardowns: Hook[] = [];
  let ready = true;
  for (const hook of suite.beforeAll) {
    try {
      const teardown = await withTimeout(hook, context.timeout, "beforeAll hook");
      if (typeof teardown === "function") teardowns.unshift(teardown as Hook);
    } catch (error) {
      fail(context, `${title} > beforeAll`, error);
      ready = false;
      break;
    }
  }
  if (ready) {
    const innerBefore = [...beforeEach, ...suite.beforeEach];
    const innerAfter = [...[...suite.afterEach].reverse(), ...afterEach];
    for (const child of suite.children) {
      if (child.kind === "test") await runTest(child, [...names, child.name].join(" > "), innerBefore, innerAfter, context);
      else await runSuite(child, names, innerBefore, innerAfter, context);
    }
  }
  for (const hook of [...[...suite.afterAll].reverse(), ...teardowns]) {
    try {
      await withTimeout(hook, context.timeout, "afterAll hook");
    } catch (error) {
      fail(context, `${title} > afterAll`, error);
    }
  }
}

interface RejectionEvent { readonly reason?: unknown; preventDefault?: () => void }
interface EventTargetLike {
  addEventListener?: (type: string, listener: (event: RejectionEvent) => void) => void;
  removeEventListener?: (type: string, listener: (event: RejectionEvent) => void) => void;
}

/**
 * Runs every test registered since the last run (then forgets them) and reports the outcome.
 * Unhandled promise rejections during the run count as failures.
 */
export async function run(options: RunOptions = {}): Promise<RunResult> {
  ensureCollecting("run()");
  const suite = root;
  root = createSuite("");
  current = root;
  const context: RunContext = { result: { passed: 0, failed: 0, failures: [] }, timeout: options.timeout ?? DEFAULT_TIMEOUT_MS, lastTest: "" };
  const onRejection = (event: RejectionEvent): void => {
    event.preventDefault?.();
    fail(context, `unhandled rejection (during or after "${context.lastTest || "collection"}")`, event.reason);
  };
  const target = globalThis as EventTargetLike;
  target.addEventListener?.("unhandledrejection", onRejection);
  running = true;
  try {
    await runSuite(suite, options.prefix === undefined ? [] : [options.prefix], [], [], context);
  } finally {
    running = false;
    testState.current = undefined;
    target.removeEventListener?.("unhandledrejection", onRejection);
  }
  return context.result;
}

/** Drops everything registered since the last run (after a test file failed to load). */
export function reset(): void {
  root = createSuite("");
  current = root;
}
