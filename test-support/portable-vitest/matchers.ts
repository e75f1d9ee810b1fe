// The matchers of portable-vitest's expect(), with vitest's semantics for the subset portable tests
// use. Each returns whether it passed and a message for the failed (or failed negated) case; argument
// misuse throws regardless of `.not`, as in vitest.
import { isAsymmetric } from "./asymmetric.ts";
import { equals, matchesSubset } from "./equality.ts";
import { format } from "./format.ts";
import { AssertionError } from "./test-state.ts";

export interface MatcherResult {
  readonly pass: boolean;
  /** The failure message; `negated` is true when the assertion was made through `.not`. */
  readonly message: (negated: boolean) => string;
}

export interface MatcherContext {
  /** "rejects" when the received value is a promise's rejection reason (for toThrow). */
  readonly mode: "sync" | "resolves" | "rejects";
}

export type Matcher = (received: unknown, args: readonly unknown[], context: MatcherContext) => MatcherResult;

function check(pass: boolean, received: unknown, description: string): MatcherResult {
  return { pass, message: (negated) => `expected ${format(received)} ${negated ? "not " : ""}to ${description}` };
}

function numeric(name: string, received: unknown, expected: unknown): void {
  for (const value of [received, expected]) {
    if (typeof value !== "number" && typeof value !== "bigint") {
      throw new AssertionError(`${name} expects numbers or bigints, received ${format(value)}`);
    }
  }
}

function compare(name: string, test: (a: number | bigint, b: number | bigint) => boolean, word: string): Matcher {
  return (received, [expected]) => {
    numeric(name, received, expected);
    return check(test(received as number, expected as number), received, `be ${word} ${format(expected)}`);
  };
}

function toIterableArray(name: string, received: unknown): unknown[] {
  if (received === null || received === undefined ||
    typeof (received as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function") {
    throw new AssertionError(`${name} expects a string or an iterable, received ${format(received)}`);
  }
  return Array.from(received as Iterable<unknown>);
}

function messageOf(thrown: unknown): string {
  if (typeof thrown === "object" && thrown !== null && typeof (thrown as Error).message === "string") {
    return (thrown as Error).message;
  }
  return String(thrown);
}

function throwMatches(thrown: unknown, expected: unknown): boolean {
  const message = messageOf(thrown);
  if (typeof expected === "string") return message.includes(expected);
  if (expected instanceof RegExp) return expected.test(message);
  if (isAsymmetric(expected)) return expected.asymmetricMatch(thrown);
  if (typeof expected === "function") return thrown instanceof (expected as new () => unknown);
  if (typeof expected === "object" && expected !== null && "message" in expected) {
    return message === (expected as { message: unknown }).message;
  }
  throw new AssertionError(`toThrow: unsupported expected value ${format(expected)}`);
}

function describeExpectedThrow(expected: unknown): string {
  if (expected === undefined) return "";
  if (typeof expected === "string") return ` an error whose message contains ${JSON.stringify(expected)}`;
  if (expected instanceof RegExp) return ` an error whose message matches ${String(expected)}`;
  if (typeof expected === "function") return ` an instance of ${expected.name || "anonymous class"}`;
  return ` an error matching ${format(expected)}`;
}

const toThrow: Matcher = (received, args, { mode }) => {
  const expected = args[0];
  let thrown: { value: unknown } | undefined;
  let returnedPromise = false;
  if (mode === "rejects") {
    thrown = { value: received };
  } else {
    if (typeof received !== "function") {
      throw new AssertionError(`toThrow expects a function, received ${format(received)}; ` +
        "for a promise use `await expect(promise).rejects.toThrow()`");
    }
    try {
      const result: unknown = (received as () => unknown)();
      if (typeof (result as { then?: unknown } | null)?.then === "function") {
        returnedPromise = true;
        (result as Promise<unknown>).then(() => undefined, () => undefined);
      }
    } catch (error) {
      thrown = { value: error };
    }
  }
  const what = describeExpectedThrow(expected);
  if (thrown === undefined) {
    const why = returnedPromise
      ? "it returned a Promise (use `await expect(fn()).rejects.toThrow()`)" : "it did not throw";
    return { pass: false, message: () => `expected function to throw${what}, but ${why}` };
  }
  const caught = thrown.value;
  const pass = expected === undefined ? true : throwMatches(caught, expected);
  return {
    pass,
    message: (negated) => `expected function ${negated ? "not " : ""}to throw${what}, but it threw ${format(caught)}`,
  };
};

function parsePath(path: unknown): PropertyKey[] {
  if (Array.isArray(path)) return path as PropertyKey[];
  if (typeof path !== "string") throw new AssertionError(`toHaveProperty expects a path, received ${format(path)}`);
  const keys: string[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+|"[^"]*"|'[^']*')\]/g)) {
    const key = match[1] ?? match[2] ?? "";
    keys.push(/^["']/.test(key) ? key.slice(1, -1) : key);
  }
  return keys;
}

const toHaveProperty: Matcher = (received, args) => {
  const keys = parsePath(args[0]);
  let current: unknown = received;
  let found = keys.length > 0;
  for (const key of keys) {
    if (current === null || current === undefined || !(key in Object(current))) {
      found = false;
      break;
    }
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  const withValue = args.length > 1;
  const pass = found && (!withValue || equals(current, args[1], false));
  const description = `have property ${format(args[0])}${withValue ? ` with value ${format(args[1])}` : ""}`;
  return {
    pass,
    message: (negated) => `expected ${format(received)} ${negated ? "not " : ""}to ${description}` +
      (found && withValue && !negated ? `, but its value is ${format(current)}` : ""),
  };
};

/** Every matcher portable-vitest supports, by name. */
export const matchers: Readonly<Record<string, Matcher>> = {
  toBe: (received, [expected]) => check(Object.is(received, expected), received, `be ${format(expected)}`),
  toEqual: (received, [expected]) => check(equals(received, expected, false), received, `equal ${format(expected)}`),
  toStrictEqual: (received, [expected]) =>
    check(equals(received, expected, true), received, `strictly equal ${format(expected)}`),
  toBeTruthy: (received) => check(Boolean(received), received, "be truthy"),
  toBeFalsy: (received) => check(!received, received, "be falsy"),
  toBeNull: (received) => check(received === null, received, "be null"),
  toBeUndefined: (received) => check(received === undefined, received, "be undefined"),
  toBeDefined: (received) => check(received !== undefined, received, "be defined"),
  toBeNaN: (received) => check(Number.isNaN(received), received, "be NaN"),
  toBeTypeOf: (received, [type]) => check(typeof received === type, received, `be of type ${String(type)}`),
  toContain: (received, [item]) => {
    if (typeof received === "string") {
      if (typeof item !== "string") throw new AssertionError(`toContain on a string expects a string, received ${format(item)}`);
      return check(received.includes(item), received, `contain ${format(item)}`);
    }
    return check(toIterableArray("toContain", received).includes(item), received, `contain ${format(item)}`);
  },
  toContainEqual: (received, [item]) => check(toIterableArray("toContainEqual", received)
    .some((candidate) => equals(candidate, item, false)), received, `contain an item equal to ${format(item)}`),
  toHaveLength: (received, [length]) => {
    const actual = (received as { length?: unknown } | null | undefined)?.length;
    if (typeof actual !== "number") throw new AssertionError(`toHaveLength expects a value with a length, received ${format(received)}`);
    return { pass: actual === length, message: (negated) =>
      `expected ${format(received)} ${negated ? "not " : ""}to have length ${format(length)}, but its length is ${actual}` };
  },
  toThrow,
  toThrowError: toThrow,
  toMatch: (received, [pattern]) => {
    if (typeof received !== "string") throw new AssertionError(`toMatch expects a string, received ${format(received)}`);
    if (typeof pattern === "string") return check(received.includes(pattern), received, `match ${format(pattern)}`);
    if (pattern instanceof RegExp) return check(pattern.test(received), received, `match ${String(pattern)}`);
    throw new AssertionError(`toMatch expects a string or RegExp, received ${format(pattern)}`);
  },
  toBeGreaterThan: compare("toBeGreaterThan", (a, b) => a > b, "greater than"),
  toBeGreaterThanOrEqual: compare("toBeGreaterThanOrEqual", (a, b) => a >= b, "greater than or equal to"),
  toBeLessThan: compare("toBeLessThan", (a, b) => a < b, "less than"),
  toBeLessThanOrEqual: compare("toBeLessThanOrEqual", (a, b) => a <= b, "less than or equal to"),
  toBeCloseTo: (received, [expected, digits = 2]) => {
    numeric("toBeCloseTo", received, expected);
    const a = Number(received);
    const b = Number(expected);
    const pass = (a === Infinity && b === Infinity) || (a === -Infinity && b === -Infinity) ||
      Math.abs(a - b) < 10 ** -Number(digits) / 2;
    return check(pass, received, `be close to ${format(expected)} (${String(digits)} digits)`);
  },
  toMatchObject: (received, [expected]) => {
    if (typeof received !== "object" || received === null) {
      throw new AssertionError(`toMatchObject expects an object, received ${format(received)}`);
    }
    if (typeof expected !== "object" || expected === null) {
      throw new AssertionError(`toMatchObject expects an object argument, received ${format(expected)}`);
    }
    return check(matchesSubset(received, expected), received, `match object ${format(expected)}`);
  },
  toBeInstanceOf: (received, [ctor]) => {
    if (typeof ctor !== "function") throw new AssertionError(`toBeInstanceOf expects a constructor, received ${format(ctor)}`);
    return check(received instanceof (ctor as new () => unknown), received, `be an instance of ${ctor.name || "anonymous class"}`);
  },
  toHaveProperty,
  toSatisfy: (received, [predicate]) => {
    if (typeof predicate !== "function") throw new AssertionError("toSatisfy expects a function");
    return check(Boolean((predicate as (value: unknown) => unknown)(received)), received, "satisfy the predicate");
  },
};
