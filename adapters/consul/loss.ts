/**
 * @module adapters/consul/loss
 * The loss report every conversion returns: one line per meaning the target language cannot carry
 * (or carries only approximately), naming the source object, the field and why. Conversions never drop
 * a rule silently; a caller decides whether losses are acceptable (`weft translate --allow-loss`).
 */

export interface Loss {
  /** Source object, e.g. `AuthorizationPolicy/foo/httpbin` or `service-intentions/api`. */
  object: string;
  /** Field path in the source object. */
  field: string;
  reason: string;
  /** `lost`: the meaning is gone; `approximated`: kept with a stated difference. Default `lost`. */
  kind?: "lost" | "approximated";
}

/** Renders a loss as one line: `lost: Kind/name: field: reason`. */
export function formatLoss(l: Loss): string {
  return `${l.kind ?? "lost"}: ${l.object}${l.field ? `: ${l.field}` : ""}: ${l.reason}`;
}
