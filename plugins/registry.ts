/**
 * @module plugins/registry
 * The one list of HTTP filters the proxy knows, by name. Each plugin folder (`plugins/<name>/`) exports
 * an `HttpFilterFactory` (config schema, metadata, `create`), and gets one line here.
 */
import { routerFilter, type HttpFilterFactory } from "../proxy/filter.ts";
import { corsFilter } from "./cors/index.ts";
import { envoyRbacFilter } from "./envoy-rbac/index.ts";
import { faultFilter } from "./fault/index.ts";
import { headerMutationFilter } from "./header-mutation/index.ts";
import { impersonationFilter } from "./impersonation/index.ts";
import { jwtAuthnFilter } from "./jwt-authn/index.ts";
import { localRateLimitFilter } from "./local-rate-limit/index.ts";
import { rbacFilter } from "./rbac/index.ts";

export const httpFilters: ReadonlyMap<string, HttpFilterFactory<unknown>> = new Map<string, HttpFilterFactory<unknown>>([
  [routerFilter.name, routerFilter as HttpFilterFactory<unknown>],
  [jwtAuthnFilter.name, jwtAuthnFilter as HttpFilterFactory<unknown>],
  [impersonationFilter.name, impersonationFilter as HttpFilterFactory<unknown>],
  [rbacFilter.name, rbacFilter as HttpFilterFactory<unknown>],
  [envoyRbacFilter.name, envoyRbacFilter as HttpFilterFactory<unknown>],
  [corsFilter.name, corsFilter as HttpFilterFactory<unknown>],
  [faultFilter.name, faultFilter as HttpFilterFactory<unknown>],
  [localRateLimitFilter.name, localRateLimitFilter as HttpFilterFactory<unknown>],
  [headerMutationFilter.name, headerMutationFilter as HttpFilterFactory<unknown>],
]);
