/**
 * @module plugins/cors/config
 * Configuration of the CORS filter, in the shape of Istio's VirtualService `corsPolicy`: allowed origins
 * as string matches (exact, prefix, regex), methods, request headers, exposed headers, max age,
 * credentials, what to do with preflights from other origins; listener-wide or per route.
 */
import { duration, parseGoDuration } from "../../core/resources/istio/duration.ts";
import { z } from "../../core/schema/index.ts";

const regex = z.string().refine((r) => {
  try {
    new RegExp(r);
    return true;
  } catch {
    return false;
  }
}, { message: "invalid regular expression" });

export const originMatchSchema = z.union([
  z.strictObject({ exact: z.string() }),
  z.strictObject({ prefix: z.string() }),
  z.strictObject({ regex }),
]);

export const corsPolicySchema = z.strictObject({
  allowOrigins: z.array(originMatchSchema).default([]),
  allowMethods: z.array(z.string().min(1)).optional(),
  allowHeaders: z.array(z.string().min(1)).optional(),
  exposeHeaders: z.array(z.string().min(1)).optional(),
  /** How long a browser may cache the preflight answer (whole seconds). */
  maxAge: duration({ seconds: true }).optional(),
  allowCredentials: z.boolean().optional(),
  /** A preflight from an origin that is not allowed: FORWARD it to the service, or IGNORE (answer it without CORS headers). */
  unmatchedPreflights: z.enum(["FORWARD", "IGNORE"]).default("FORWARD"),
});

export const corsConfigSchema = corsPolicySchema.partial().extend({
  /** Per route name: that route's policy instead of the listener-wide one (null = no CORS handling). */
  routes: z.record(z.string(), corsPolicySchema.nullable()).optional(),
});

export type CorsPolicyConfig = z.infer<typeof corsPolicySchema>;
export type CorsConfig = z.infer<typeof corsConfigSchema>;

export function maxAgeSeconds(p: CorsPolicyConfig): string | undefined {
  return p.maxAge === undefined ? undefined : String(Math.round((parseGoDuration(p.maxAge) ?? 0) / 1e9));
}
