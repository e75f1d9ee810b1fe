/**
 * @module plugins/jwt-authn/extract
 * Finds the tokens of one JWT rule in a request, as Envoy's extractor does: each configured header
 * (value after the prefix), query parameter and cookie; with no location configured, `Authorization:
 * Bearer <token>` and then `?access_token=`. Also removes a verified token from where it was found.
 */
import type { FilterStream } from "../../proxy/filter.ts";
import { parseCookies, queryParams, withoutCookie, withoutQueryParam } from "../common/request.ts";
import type { JwtRuleConfig } from "./config.ts";

export type TokenLocation =
  | { kind: "header"; name: string; prefix: string; ignoreCase: boolean }
  | { kind: "param"; name: string }
  | { kind: "cookie"; name: string };

export interface FoundToken {
  token: string;
  location: TokenLocation;
}

/** The locations a rule reads, in Envoy's order: headers, then query parameters, then cookies. */
export function ruleLocations(rule: JwtRuleConfig): TokenLocation[] {
  const headers = rule.fromHeaders ?? [];
  const params = rule.fromParams ?? [];
  const cookies = rule.fromCookies ?? [];
  if (headers.length + params.length + cookies.length === 0) {
    return [{ kind: "header", name: "authorization", prefix: "Bearer ", ignoreCase: true }, { kind: "param", name: "access_token" }];
  }
  return [
    ...headers.map((h): TokenLocation => ({ kind: "header", name: h.name.toLowerCase(), prefix: h.prefix ?? "", ignoreCase: false })),
    ...params.map((name): TokenLocation => ({ kind: "param", name })),
    ...cookies.map((name): TokenLocation => ({ kind: "cookie", name })),
  ];
}

function fromHeader(value: string, loc: Extract<TokenLocation, { kind: "header" }>): string | undefined {
  const head = value.slice(0, loc.prefix.length);
  if (loc.ignoreCase ? head.toLowerCase() !== loc.prefix.toLowerCase() : head !== loc.prefix) return undefined;
  const token = value.slice(loc.prefix.length).trim();
  return token === "" ? undefined : token;
}

/** The tokens present at `locations`. */
export function extractTokens(stream: FilterStream, locations: readonly TokenLocation[]): FoundToken[] {
  const out: FoundToken[] = [];
  for (const location of locations) {
    if (location.kind === "header") {
      const v = stream.headers.get(location.name);
      const token = v === undefined ? undefined : fromHeader(v, location);
      if (token !== undefined) out.push({ token, location });
    } else if (location.kind === "param") {
      for (const token of queryParams(stream.path, location.name)) if (token !== "") out.push({ token, location });
    } else {
      for (const [name, token] of parseCookies(stream.headers.get("cookie"))) if (name === location.name && token !== "") out.push({ token, location });
    }
  }
  return out;
}

/** Removes a token from the request: the whole header, the query parameter, or the cookie. */
export function removeToken(stream: FilterStream, location: TokenLocation): void {
  if (location.kind === "header") stream.headers.delete(location.name);
  else if (location.kind === "param") stream.path = withoutQueryParam(stream.path, location.name);
  else {
    const cookie = stream.headers.get("cookie");
    if (cookie === undefined) return;
    const rest = withoutCookie(cookie, location.name);
    if (rest === undefined) stream.headers.delete("cookie");
    else stream.headers.set("cookie", rest);
  }
}
