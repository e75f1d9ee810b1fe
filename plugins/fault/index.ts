/**
 * @module plugins/fault
 * Fault injection (delay, abort) with Istio VirtualService `fault` semantics, as an HTTP filter.
 * @example
 * // filters: [{ name: "fault", config: { abort: { httpStatus: 503, percentage: 10 }, delay: { fixedDelay: "2s", percentage: 50 } } }]
 */
import type { HttpFilterFactory } from "../../proxy/filter.ts";
import { faultConfigSchema, type FaultConfig } from "./config.ts";
import { createFaultFilter } from "./filter.ts";

export type { FaultConfig } from "./config.ts";
export { FAULT_KEY, type FaultRecord } from "./filter.ts";

export const faultFilter: HttpFilterFactory<FaultConfig> = {
  name: "fault",
  status: "alpha",
  runtimes: ["node", "deno", "workerd"],
  schema: faultConfigSchema,
  create: createFaultFilter,
};
