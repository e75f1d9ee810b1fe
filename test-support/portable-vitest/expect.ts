// portable-vitest's expect(): the chain `expect(x)[.not][.resolves|.rejects].matcher(...)` over the
// matchers in matchers.ts, the asymmetric helpers and expect.assertions. Any matcher or helper this
// shim does not implement throws UnsupportedError when accessed, so a test never passes by accident.
import type { ExpectStatic } from "vitest";
import { any, anything, arrayContaining, objectContaining, stringContaining, stringMatching } from "./asymmetric.ts";
import { format } from "./format.ts";
import { matchers, type MatcherContext } from "./matchers.ts";
import { AssertionError, testState, UnsupportedError } from "./test-state.ts";

interface Flags {
  readonly negated: boolean;
  readonly mode: MatcherContext["mode"];
  readonly label: string | undefined;
}

function apply(name: string, received: unknown, args: readonly unknown[], flags: Flags): void {
  const matcher = matchers[name];
  if (matcher === undefined) throw new UnsupportedError(`expect(...).${name}`);
  const result = matcher(received, args, { mode: flags.mode });
  if (result.pass === flags.negated) {
    const message = result.message(flags.negated);
    throw new AssertionError(flags.label === undefined ? message : `${flags.label}: ${message}`);
  }
}

async function settle(received: unknown, flags: Flags): Promise<unknown> {
  if (typeof (received as { then?: unknown } | null)?.then !== "function") {
    throw new AssertionError(`expected a promise for .${flags.mode}, received ${format(received)}`);
  }
  let value: unknown;
  try {
    value = await received;
  } catch (reason) {
    if (flags.mode === "rejects") return reason;
    throw new AssertionError(`expected promise to resolve, but it rejected with ${format(reason)}`);
  }
  if (flags.mode === "rejects") {
    throw new AssertionError(`expected promise to reject, but it resolved to ${format(value)}`);
  }
  return value;
}

function invoke(name: string, received: unknown, args: readonly unknown[], flags: Flags): unknown {
  const state = testState.current;
  if (state !== undefined) state.assertions += 1;
  if (flags.mode === "sync") {
    apply(name, received, args, flags);
    return undefined;
  }
  const done = settle(received, flags).then((value) => apply(name, value, args, flags));
  let observed = false;
  const observe = (): Promise<void> => {
    observed = true;
    return done;
  };
  if (state !== undefined) {
    // A failure the test never looked at (no await/then/catch) fails the test, as vitest 3+ does.
    state.pending.push(done.then(() => undefined, (error: unknown) => {
      state.asyncErrors.push(() => (observed ? undefined : { error }));
    }));
  } else {
    done.catch(() => undefined);
  }
  return {
    then: (onFulfilled?: (value: void) => unknown, onRejected?: (reason: unknown) => unknown) =>
      observe().then(onFulfilled, onRejected),
    catch: (onRejected?: (reason: unknown) => unknown) => observe().catch(onRejected),
    finally: (onFinally?: () => void) => observe().finally(onFinally),
  };
}

function assertion(received: unknown, flags: Flags): object {
  return new Proxy({}, {
    get(_target, property) {
      if (typeof property === "symbol" || property === "then") return undefined;
      if (property === "not") return assertion(received, { ...flags, negated: !flags.negated });
      if (property === "resolves" || property === "rejects") {
        if (flags.mode !== "sync") throw new AssertionError(`.${property} cannot follow .${flags.mode}`);
        return assertion(received, { ...flags, mode: property });
      }
      if (!(property in matchers)) throw new UnsupportedError(`expect(...).${property}`);
      return (...args: unknown[]) => invoke(property, received, args, flags);
    },
  });
}

function currentStateFor(helper: string) {
  const state = testState.current;
  if (state === undefined) throw new AssertionError(`${helper} must be called inside a test`);
  return state;
}

const statics = {
  anything,
  any,
  objectContaining,
  arrayContaining,
  stringContaining,
  stringMatching,
  assertions(count: number): void {
    currentStateFor("expect.assertions").expectedAssertions = count;
  },
  hasAssertions(): void {
    currentStateFor("expect.hasAssertions").requireAssertions = true;
  },
};

function baseExpect(received: unknown, label?: string): object {
  return assertion(received, { negated: false, mode: "sync", label });
}

/** vitest's `expect`, limited to what portable-vitest implements (typed as vitest's for callers). */
export const expect = new Proxy(Object.assign(baseExpect, statics), {
  get(target, property, receiver) {
    if (typeof property === "string" && !(property in target)) throw new UnsupportedError(`expect.${property}`);
    return Reflect.get(target, property, receiver) as unknown;
  },
}) as unknown as ExpectStatic;
