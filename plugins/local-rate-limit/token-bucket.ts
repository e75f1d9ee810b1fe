/**
 * @module plugins/local-rate-limit/token-bucket
 * A token bucket refilled in whole steps, like Envoy's local rate limiter: it starts full, gains
 * `tokensPerFill` at each fill interval (up to `maxTokens`), and each request takes one token. Time comes
 * from the caller, so the bucket needs no timer.
 */
export interface TokenBucket {
  /** Takes a token; false when none is left. */
  consume(now: number): boolean;
  readonly max: number;
  /** Tokens left after the last `consume`. */
  remaining(now: number): number;
  /** Milliseconds until the next fill. */
  msToNextFill(now: number): number;
}

export function createTokenBucket(max: number, perFill: number, intervalMs: number, start: number): TokenBucket {
  let tokens = max;
  let lastFill = start;
  const refill = (now: number) => {
    if (now < lastFill) {
      lastFill = now;
      return;
    }
    const fills = Math.floor((now - lastFill) / intervalMs);
    if (fills > 0) {
      tokens = Math.min(max, tokens + fills * perFill);
      lastFill += fills * intervalMs;
    }
  };
  return {
    max,
    consume(now) {
      refill(now);
      if (tokens < 1) return false;
      tokens--;
      return true;
    },
    remaining(now) {
      refill(now);
      return tokens;
    },
    msToNextFill(now) {
      refill(now);
      return lastFill + intervalMs - now;
    },
  };
}
