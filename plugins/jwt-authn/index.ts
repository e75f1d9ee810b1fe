/**
 * @module plugins/jwt-authn
 * JWT authentication with Istio RequestAuthentication semantics, as an HTTP filter.
 * @example
 * // filters: [{ name: "jwt-authn", config: { jwtRules: [{ issuer: "https://issuer.example", jwksUri: "https://issuer.example/jwks.json" }] } }]
 */
import type { HttpFilterFactory } from "../../proxy/filter.ts";
import { jwtAuthnConfigSchema, type JwtAuthnConfig } from "./config.ts";
import { createJwtAuthnFilter } from "./filter.ts";

export type { JwtAuthnConfig } from "./config.ts";
export { JWT_AUTHN_KEY, type JwtAuthnResult } from "../common/metadata.ts";

export const jwtAuthnFilter: HttpFilterFactory<JwtAuthnConfig> = {
  name: "jwt-authn",
  status: "alpha",
  runtimes: ["node", "deno", "workerd"],
  schema: jwtAuthnConfigSchema,
  create: createJwtAuthnFilter,
};
