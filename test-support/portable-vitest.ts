// A runtime-neutral stand-in for the part of vitest's API that portable tests (core/, plugins/,
// test-support/portable/) use, so the same *.test.ts files run in Deno and workerd: the runtime test
// bundle (scripts/runtime-tests.mjs) aliases the import "vitest" to this module. Web APIs only.
// Anything beyond the subset — an unknown matcher, vi.*, .skip/.only/.todo — throws UnsupportedError,
// so a test that needs it fails loudly instead of passing silently.
import { format } from "./portable-vitest/format.ts";
import { registerHook, registerSuite, registerTest, type TestFunction } from "./portable-vitest/runner.ts";
import { UnsupportedError } from "./portable-vitest/test-state.ts";

export { expect } from "./portable-vitest/expect.ts";
export { reset, run, type Failure, type RunOptions, type RunResult } from "./portable-vitest/runner.ts";
export { AssertionError, UnsupportedError } from "./portable-vitest/test-state.ts";

type Register = (name: unknown, fn: TestFunction, options?: unknown) => void;
type Table = readonly unknown[];

function lookup(row: unknown, path: string): { found: boolean; value: unknown } {
  let value: unknown = row;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object" || !(key in value)) return { found: false, value: undefined };
    value = (value as Record<string, unknown>)[key];
  }
  return { found: true, value };
}

/** vitest's title formatting for .each/.for: printf tokens, %# (index), %$ (index + 1), $field paths. */
export function formatTitle(template: string, args: readonly unknown[], index: number): string {
  let next = 0;
  let title = template.replace(/%[sdifjoOp#$%]/g, (token) => {
    if (token === "%%") return "%";
    if (token === "%#") return String(index);
    if (token === "%$") return String(index + 1);
    if (next >= args.length) return token;
    const value = args[next++];
    if (token === "%d" || token === "%f") return String(Number(value));
    if (token === "%i") return String(Math.trunc(Number(value)));
    if (token === "%s") return typeof value === "string" ? value : format(value);
    return format(value);
  });
  const only = args[0];
  if (args.length === 1 && typeof only === "object" && only !== null) {
    title = title.replace(/\$([A-Za-z_][\w.]*)/g, (whole, path: string) => {
      const { found, value } = lookup(only, path);
      if (!found) return whole;
      return typeof value === "string" ? `'${value}'` : format(value);
    });
  }
  return title;
}

function eachOf(register: Register, kind: string, passRowWhole: boolean) {
  return (table: Table) => {
    if (!Array.isArray(table)) throw new UnsupportedError(`${kind} with a template-literal table`);
    return (name: string, fn: TestFunction, options?: unknown): void => {
      table.forEach((row: unknown, index) => {
        const args = !passRowWhole && Array.isArray(row) ? (row as unknown[]) : [row];
        const call = passRowWhole
          ? (context: unknown) => (fn as (row: unknown, context: unknown) => unknown)(row, context)
          : () => (fn as (...values: unknown[]) => unknown)(...args);
        register(formatTitle(name, args, index), call, options);
      });
    };
  };
}

/** Makes unknown properties (it.skip, describe.only, ...) throw instead of being undefined. */
function strict<T extends object>(api: T, label: string): T {
  return new Proxy(api, {
    get(target, property, receiver) {
      if (typeof property === "string" && !(property in target)) throw new UnsupportedError(`${label}.${property}`);
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

const registerTestApi: Register = (name, fn, options) => registerTest(name, fn, options);
const registerSuiteApi: Register = (name, fn, options) => registerSuite(name, fn, options);

export const it = strict(Object.assign(
  (name: unknown, a?: unknown, b?: unknown): void => registerTest(name, a, b),
  { each: eachOf(registerTestApi, "it.each", false), for: eachOf(registerTestApi, "it.for", true) },
), "it");
export const test = it;

export const describe = strict(Object.assign(
  (name: unknown, a?: unknown, b?: unknown): void => registerSuite(name, a, b),
  { each: eachOf(registerSuiteApi, "describe.each", false) },
), "describe");
export const suite = describe;

export const beforeAll = (fn: () => unknown): void => registerHook("beforeAll", fn);
export const afterAll = (fn: () => unknown): void => registerHook("afterAll", fn);
export const beforeEach = (fn: () => unknown): void => registerHook("beforeEach", fn);
export const afterEach = (fn: () => unknown): void => registerHook("afterEach", fn);

/** vitest's `vi` (mocks, fake timers) is not available in portable tests: inject time and randomness instead. */
export const vi: Record<string, unknown> = new Proxy({}, {
  get(_target, property) {
    if (typeof property === "symbol" || property === "then") return undefined;
    throw new UnsupportedError(`vi.${property}`);
  },
});
