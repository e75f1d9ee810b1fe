/**
 * @module adapters/istio/loss
 * The loss report of the Istio conversions: one line per meaning that one side cannot carry, naming the
 * source object (`Kind/namespace/name`), the field path in it and why. The same shape as the Consul
 * bridge's report, so `weft translate` prints both alike. Conversions never drop meaning silently.
 */

export interface Loss {
  /** Source object, e.g. `VirtualService/bookinfo/reviews` or, for IR input, the IR object's id. */
  object: string;
  /** Field path in the source object, e.g. `spec.http[0].fault.delay.exponentialDelay`. */
  field: string;
  reason: string;
  /** `lost`: the meaning is gone; `approximated`: kept with a stated difference. Default `lost`. */
  kind?: "lost" | "approximated";
}

/** Collects losses for one object; `at(field)` narrows the field prefix. */
export interface LossSink {
  lost(field: string, reason: string): void;
  approximated(field: string, reason: string): void;
  readonly losses: Loss[];
}

export function createLossSink(object: string, losses: Loss[] = []): LossSink {
  return {
    losses,
    lost: (field, reason) => losses.push({ object, field, reason }),
    approximated: (field, reason) => losses.push({ object, field, reason, kind: "approximated" }),
  };
}
