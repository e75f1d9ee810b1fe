/**
 * @module plugins/fault/config
 * Configuration of the fault filter, shaped like Istio's HTTPFaultInjection: a fixed delay and an abort
 * (HTTP or gRPC status), each for a percentage of requests (default 100), listener-wide or per route,
 * optionally controlled per request by Envoy's `x-envoy-fault-*` headers, with a cap on concurrent faults.
 */
import { duration, parseGoDuration } from "../../core/resources/istio/duration.ts";
import { z } from "../../core/schema/index.ts";

const percentage = z.number().min(0).max(100);

const delaySchema = z.strictObject({
  fixedDelay: duration({ istio: false }),
  percentage: percentage.default(100),
});

const abortSchema = z.strictObject({
  httpStatus: z.number().int().min(200).max(599).optional(),
  grpcStatus: z.number().int().min(0).max(16).optional(),
  percentage: percentage.default(100),
}).refine((a) => (a.httpStatus === undefined) !== (a.grpcStatus === undefined), { message: "exactly one of httpStatus or grpcStatus must be set" });

const faultSchema = z.strictObject({ delay: delaySchema.optional(), abort: abortSchema.optional() });

export const faultConfigSchema = faultSchema.extend({
  /** Per route name: that route's faults instead of the listener-wide ones (null = none). */
  routes: z.record(z.string(), faultSchema.nullable()).optional(),
  /** Honour `x-envoy-fault-abort-request`, `x-envoy-fault-abort-grpc-request`, `x-envoy-fault-delay-request` and their `-percentage` headers. Off by default: any client could fault the service. */
  headerControl: z.boolean().default(false),
  /** At most this many delays in progress at once; further requests are not faulted. */
  maxActiveFaults: z.number().int().min(0).optional(),
});

export type FaultSettings = z.infer<typeof faultSchema>;
export type FaultConfig = z.infer<typeof faultConfigSchema>;

export function delayMs(fixedDelay: string): number {
  return (parseGoDuration(fixedDelay) ?? 0) / 1e6;
}
