/**
 * @module plugins/common/request
 * Small request helpers the filters share: query parameters and cookies read from (and removed from)
 * a request, client addresses normalized for CIDR matching, and a percentage roll that uses the
 * injected random source.
 */

/** The query string of a request target (without `?` and fragment), or "". */
function queryOf(path: string): string {
  const q = path.indexOf("?");
  if (q < 0) return "";
  const hash = path.indexOf("#", q);
  return path.slice(q + 1, hash < 0 ? undefined : hash);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** Values of query parameter `name` in a request target, in order. */
export function queryParams(path: string, name: string): string[] {
  const out: string[] = [];
  const query = queryOf(path);
  if (query === "") return out;
  for (const pair of query.split("&")) {
    const eq = pair.indexOf("=");
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    if (key === name) out.push(decode(eq < 0 ? "" : pair.slice(eq + 1)));
  }
  return out;
}

/** The request target with every occurrence of query parameter `name` removed. */
export function withoutQueryParam(path: string, name: string): string {
  const q = path.indexOf("?");
  if (q < 0) return path;
  const hash = path.indexOf("#", q);
  const query = path.slice(q + 1, hash < 0 ? undefined : hash);
  const kept = query.split("&").filter((pair) => {
    const eq = pair.indexOf("=");
    return decode(eq < 0 ? pair : pair.slice(0, eq)) !== name;
  });
  const rest = hash < 0 ? "" : path.slice(hash);
  return path.slice(0, q) + (kept.length > 0 ? `?${kept.join("&")}` : "") + rest;
}

/** Cookie pairs are separated by `;`; several `Cookie` headers arrive joined with `, ` (cookie values cannot hold a comma). */
const COOKIE_SEPARATOR = /;\s*|,\s*/;

/** Cookies from a `Cookie` header value as [name, value] pairs, in order. */
export function parseCookies(header: string | undefined): [string, string][] {
  if (header === undefined) return [];
  const out: [string, string][] = [];
  for (const part of header.split(COOKIE_SEPARATOR)) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out.push([part.slice(0, eq).trim(), value]);
  }
  return out;
}

/** A `Cookie` header value without cookie `name`, or undefined when nothing is left. */
export function withoutCookie(header: string, name: string): string | undefined {
  const kept = header.split(COOKIE_SEPARATOR).filter((part) => {
    const eq = part.indexOf("=");
    return eq <= 0 || part.slice(0, eq).trim() !== name;
  });
  return kept.length > 0 ? kept.join("; ") : undefined;
}

/** An address as the policy engine matches it: IPv4-mapped IPv6 (`::ffff:10.0.0.1`) becomes IPv4. */
export function normalizeIp(address: string): string {
  const m = /^(?:::ffff:)(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m ? m[1]! : address;
}

/** True with probability `percent`/100, using the injected random source (`random()` in [0, 1)). */
export function rollPercent(percent: number, random: () => number): boolean {
  if (percent >= 100) return true;
  if (percent <= 0) return false;
  return random() * 100 < percent;
}

/**
 * The settings for a request's route: `routes[name]` when the route has an entry (null = off for that
 * route), else the listener-wide `fallback`.
 */
export function forRoute<T>(routes: Record<string, T | null> | undefined, routeName: string | undefined, fallback: T | undefined): T | undefined {
  if (routes !== undefined && routeName !== undefined && Object.hasOwn(routes, routeName)) return routes[routeName] ?? undefined;
  return fallback;
}
