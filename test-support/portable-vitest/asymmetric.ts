// Asymmetric matchers for portable-vitest (expect.any, expect.objectContaining, ...): values that
// stand in for "anything of this shape" inside toEqual, toMatchObject and friends, as in vitest.
import { equals } from "./equality.ts";

/** A value that decides by itself whether another value matches it. */
export interface AsymmetricMatcher {
  readonly portableAsymmetricMatcher: true;
  asymmetricMatch(other: unknown): boolean;
  toString(): string;
}

export function isAsymmetric(value: unknown): value is AsymmetricMatcher {
  return typeof value === "object" && value !== null &&
    (value as { portableAsymmetricMatcher?: unknown }).portableAsymmetricMatcher === true;
}

function matcher(text: string, match: (other: unknown) => boolean): AsymmetricMatcher {
  return { portableAsymmetricMatcher: true, asymmetricMatch: match, toString: () => text };
}

/** expect.anything(): any value except null and undefined. */
export function anything(): AsymmetricMatcher {
  return matcher("Anything", (other) => other !== null && other !== undefined);
}

/** expect.any(Constructor): typeof for the primitive wrappers, instanceof otherwise. */
export function any(ctor: unknown): AsymmetricMatcher {
  if (typeof ctor !== "function") throw new TypeError("expect.any() expects a constructor");
  const primitive = new Map<unknown, string>([
    [String, "string"], [Number, "number"], [Boolean, "boolean"], [BigInt, "bigint"], [Symbol, "symbol"],
    [Function, "function"],
  ]);
  const name = (ctor as { name?: string }).name ?? "anonymous";
  return matcher(`Any<${name}>`, (other) => {
    const type = primitive.get(ctor);
    if (type !== undefined && typeof other === type) return true;
    if (ctor === Object) return typeof other === "object" && other !== null;
    return other instanceof (ctor as new (...args: never[]) => unknown);
  });
}

export function objectContaining(expected: Record<PropertyKey, unknown>): AsymmetricMatcher {
  return matcher(`ObjectContaining`, (other) => {
    if (typeof other !== "object" || other === null) return false;
    return Reflect.ownKeys(expected).every((key) =>
      key in other && equals((other as Record<PropertyKey, unknown>)[key], expected[key], false));
  });
}

export function arrayContaining(expected: readonly unknown[]): AsymmetricMatcher {
  return matcher(`ArrayContaining`, (other) => {
    if (!Array.isArray(other)) return false;
    return expected.every((item) => other.some((candidate) => equals(candidate, item, false)));
  });
}

export function stringContaining(expected: string): AsymmetricMatcher {
  return matcher(`StringContaining ${JSON.stringify(expected)}`,
    (other) => typeof other === "string" && other.includes(expected));
}

export function stringMatching(expected: string | RegExp): AsymmetricMatcher {
  const pattern = typeof expected === "string" ? new RegExp(expected) : expected;
  return matcher(`StringMatching ${String(pattern)}`,
    (other) => typeof other === "string" && pattern.test(other));
}
