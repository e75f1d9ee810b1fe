/**
 * @module plugins/impersonation/config
 * Configuration of the impersonation filter: the whitelist of non-person entities (server DNs, or
 * SPIFFE IDs) allowed to act on a user's behalf, the header names of Grey Matter's convention, and
 * where the effective user is forwarded.
 */
import { z } from "../../core/schema/index.ts";
import { identityKey } from "./dn.ts";

const headerName = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { message: "must be a valid HTTP header name" });

export const impersonationConfigSchema = z.strictObject({
  /** Distinguished names (or SPIFFE IDs) of the servers allowed to act on a user's behalf. */
  servers: z.array(z.string().refine((s) => identityKey(s) !== undefined, { message: "must be a distinguished name (CN=...,O=...) or a SPIFFE ID" })),
  /** Header carrying the user's DN. */
  userHeader: headerName.default("USER_DN"),
  /** Header carrying the DN of the external system the request came through. */
  externalSystemHeader: headerName.default("EXTERNAL_SYS_DN"),
  /** Header the effective user is written to for the service (default: the user header). */
  forwardHeader: headerName.optional(),
});

export type ImpersonationConfig = z.infer<typeof impersonationConfigSchema>;
