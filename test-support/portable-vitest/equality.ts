// Deep equality for portable-vitest, following vitest's rules: toEqual ignores properties whose value
// is undefined and does not compare prototypes; toStrictEqual also compares undefined properties,
// array holes and prototypes; toMatchObject compares a subset. Cycle-safe, Web APIs only.
import { isAsymmetric } from "./asymmetric.ts";

type Indexable = Record<PropertyKey, unknown>;

/** Deep equality; `strict` selects toStrictEqual's rules. */
export function equals(a: unknown, b: unknown, strict: boolean): boolean {
  return eq(a, b, strict, [], []);
}

function ownKeys(value: object, strict: boolean): PropertyKey[] {
  const keys: PropertyKey[] = Object.keys(value);
  for (const symbol of Object.getOwnPropertySymbols(value)) {
    if (Object.prototype.propertyIsEnumerable.call(value, symbol)) keys.push(symbol);
  }
  return strict ? keys : keys.filter((key) => (value as Indexable)[key] !== undefined);
}

function isPlainPrototype(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

function hasIterator(value: object): value is Iterable<unknown> {
  return typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";
}

function eq(a: unknown, b: unknown, strict: boolean, seenA: unknown[], seenB: unknown[]): boolean {
  if (isAsymmetric(b)) return b.asymmetricMatch(a);
  if (isAsymmetric(a)) return a.asymmetricMatch(b);
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.prototype.toString.call(a) !== Object.prototype.toString.call(b)) return false;
  if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) &&
    !(isPlainPrototype(a) && isPlainPrototype(b))) return false;
  for (let i = seenA.length - 1; i >= 0; i--) {
    if (seenA[i] === a) return seenB[i] === b;
  }
  seenA.push(a);
  seenB.push(b);
  try {
    return eqObjects(a, b, strict, seenA, seenB);
  } finally {
    seenA.pop();
    seenB.pop();
  }
}

function eqObjects(a: object, b: object, strict: boolean, seenA: unknown[], seenB: unknown[]): boolean {
  const same = (x: unknown, y: unknown): boolean => eq(x, y, strict, seenA, seenB);
  if (a instanceof Date && b instanceof Date) return Object.is(a.getTime(), b.getTime());
  if (a instanceof RegExp && b instanceof RegExp) return a.source === b.source && a.flags === b.flags;
  if (a instanceof Number || a instanceof String || a instanceof Boolean) {
    return Object.is(a.valueOf(), (b as typeof a).valueOf());
  }
  if (typeof URL !== "undefined" && a instanceof URL && b instanceof URL) return a.href === b.href;
  if (a instanceof Error && b instanceof Error) {
    if (a.name !== b.name || a.message !== b.message || !same(a.cause, b.cause)) return false;
    if (a instanceof AggregateError && b instanceof AggregateError && !same(a.errors, b.errors)) return false;
  }
  if (a instanceof ArrayBuffer && b instanceof ArrayBuffer) {
    return same(new Uint8Array(a), new Uint8Array(b));
  }
  if (a instanceof DataView && b instanceof DataView) {
    return same(new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
      new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  }
  if (a instanceof Map && b instanceof Map) return mapsEqual(a, b, same);
  if (a instanceof Set && b instanceof Set) return setsEqual(a, b, same);
  if (Array.isArray(a) || ArrayBuffer.isView(a)) {
    if ((a as ArrayLike<unknown>).length !== (b as ArrayLike<unknown>).length) return false;
  } else if (hasIterator(a) && hasIterator(b)) {
    const left = [...a];
    const right = [...b];
    if (left.length !== right.length || !left.every((item, i) => same(item, right[i]))) return false;
  }
  const keysA = ownKeys(a, strict);
  const keysB = ownKeys(b, strict);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) =>
    Object.prototype.hasOwnProperty.call(b, key) && same((a as Indexable)[key], (b as Indexable)[key]));
}

function mapsEqual(a: Map<unknown, unknown>, b: Map<unknown, unknown>,
  same: (x: unknown, y: unknown) => boolean): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) {
    if (b.has(key)) {
      if (!same(value, b.get(key))) return false;
      continue;
    }
    let found = false;
    for (const [otherKey, otherValue] of b) {
      if (same(key, otherKey) && same(value, otherValue)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

function setsEqual(a: Set<unknown>, b: Set<unknown>, same: (x: unknown, y: unknown) => boolean): boolean {
  if (a.size !== b.size) return false;
  for (const value of a) {
    if (b.has(value)) continue;
    let found = false;
    for (const other of b) {
      if (same(value, other)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

/**
 * toMatchObject: every property of `expected` is present in `actual` and matches, recursively;
 * arrays must have the same length with matching items; other values compare with toEqual's rules.
 */
export function matchesSubset(actual: unknown, expected: unknown, seen: unknown[] = []): boolean {
  if (isAsymmetric(expected)) return expected.asymmetricMatch(actual);
  if (typeof expected !== "object" || expected === null) return equals(actual, expected, false);
  if (typeof actual !== "object" || actual === null) return false;
  if (seen.includes(expected)) return true;
  const nested = [...seen, expected];
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length &&
      expected.every((item, i) => matchesSubset(actual[i], item, nested));
  }
  if (!isPlainPrototype(expected) && !(Object.getPrototypeOf(expected) === Object.getPrototypeOf(actual))) {
    return equals(actual, expected, false);
  }
  if (expected instanceof Date || expected instanceof RegExp || expected instanceof Map ||
    expected instanceof Set || expected instanceof Error || ArrayBuffer.isView(expected)) {
    return equals(actual, expected, false);
  }
  return ownKeys(expected, true).every((key) =>
    key in actual && matchesSubset((actual as Indexable)[key], (expected as Indexable)[key], nested));
}
