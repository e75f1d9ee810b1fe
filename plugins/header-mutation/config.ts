/**
 * @module plugins/header-mutation/config
 * Configuration of the header-mutation filter: headers to remove, set (replace) and add (append) on the
 * request and on the response, listener-wide and per route.
 */
import { z } from "../../core/schema/index.ts";

const headerName = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { message: "must be a valid HTTP header name (pseudo-headers like :path cannot be changed)" });
const headerValue = z.string().refine((v) => !/[\r\n\0]/.test(v), { message: "must not contain CR, LF or NUL" });

export const mutationSchema = z.strictObject({
  /** Removed first. */
  remove: z.array(headerName).optional(),
  /** Then replaced (or created). */
  set: z.record(headerName, headerValue).optional(),
  /** Then appended (a list appends several values). */
  add: z.record(headerName, z.union([headerValue, z.array(headerValue)])).optional(),
});

const directionsSchema = z.strictObject({
  request: mutationSchema.optional(),
  response: mutationSchema.optional(),
});

export const headerMutationConfigSchema = directionsSchema.extend({
  /** Per route name: mutations applied after the listener-wide ones. */
  routes: z.record(z.string(), directionsSchema).optional(),
});

export type Mutation = z.infer<typeof mutationSchema>;
export type HeaderMutationConfig = z.infer<typeof headerMutationConfigSchema>;
