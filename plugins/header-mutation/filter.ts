/**
 * @module plugins/header-mutation/filter
 * The header-mutation filter: removes, sets and appends request headers before the request goes on,
 * and response headers before the response is sent; listener-wide first, then the route's own.
 */
import type { HeaderMap, HttpFilter } from "../../proxy/filter.ts";
import type { HeaderMutationConfig, Mutation } from "./config.ts";

export function applyMutation(headers: HeaderMap, m: Mutation | undefined): void {
  if (m === undefined) return;
  for (const name of m.remove ?? []) headers.delete(name);
  for (const [name, value] of Object.entries(m.set ?? {})) headers.set(name, value);
  for (const [name, value] of Object.entries(m.add ?? {})) for (const one of Array.isArray(value) ? value : [value]) headers.add(name, one);
}

export function createHeaderMutationFilter(cfg: HeaderMutationConfig): HttpFilter {
  const route = (name: string | undefined) => (name === undefined ? undefined : cfg.routes?.[name]);
  const hasResponse = cfg.response !== undefined || Object.values(cfg.routes ?? {}).some((r) => r.response !== undefined);
  return {
    name: "header-mutation",
    onRequest(stream) {
      applyMutation(stream.headers, cfg.request);
      applyMutation(stream.headers, route(stream.routeName)?.request);
      return undefined;
    },
    ...(hasResponse
      ? {
        onResponse(stream, response) {
          applyMutation(response.headers, cfg.response);
          applyMutation(response.headers, route(stream.routeName)?.response);
        },
      }
      : {}),
  };
}
