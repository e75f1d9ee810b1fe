/**
 * @module core/policy/request-schema
 * The schema of `REQUEST.json` for `weft authz check` (and of decision requests over the admin API):
 * the attributes of one request, validated with errors naming the field.
 */
import { z } from "../schema/index.ts";
import type { AuthzRequest } from "./types.ts";

const port = z.number().int().min(0).max(65535);

export const authzRequestSchema = z.strictObject({
  destination: z.strictObject({
    namespace: z.string().min(1),
    labels: z.record(z.string(), z.string()).optional(),
    port: port.optional(),
    ip: z.string().optional(),
    service: z.string().optional(),
  }),
  source: z.strictObject({
    principal: z.string().optional(),
    ip: z.string().optional(),
    remoteIp: z.string().optional(),
  }).optional(),
  http: z.strictObject({
    method: z.string().min(1),
    path: z.string().min(1),
    host: z.string().optional(),
    headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  }).optional(),
  auth: z.strictObject({
    principal: z.string().optional(),
    audiences: z.array(z.string()).optional(),
    presenter: z.string().optional(),
    claims: z.record(z.string(), z.unknown()).optional(),
  }).optional(),
  sni: z.string().optional(),
}) satisfies z.ZodType<AuthzRequest>;
