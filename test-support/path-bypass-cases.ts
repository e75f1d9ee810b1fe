/**
 * @module test-support/path-bypass-cases
 * The path-normalization bypass table shared by the Node proxy's bad-input suite
 * (`proxy/node/bad-input.test.ts`) and the fetch hosts' hostile-request suite
 * (`edge/conformance/hostile.test.ts`): raw request targets that try to reach `/admin` past a DENY
 * policy (`deny-admin` in namespace `default`, paths `/admin`, `/admin/*`, `/admin;*`), on a listener
 * with the default `BASE` normalization (`base`) and one with `DECODE_AND_MERGE_SLASHES`
 * (`strict-paths`). Each row says the status, the access-log response flag and what the upstream
 * receives (absent: nothing reaches it). Fetch hosts (Deno, workerd) never see the raw target — the
 * runtime parses it into a URL first — so a row may say how they differ, why, and what they must do
 * instead; no row may let a fetch host reach `/admin`.
 */

export interface PathBypassOutcome {
  status: number;
  /** Access-log `response_flags` (`-` for none). */
  flag: string;
  /** The request target the upstream receives; absent = the request must not reach the upstream. */
  upstream?: string;
}

export interface PathBypassCase extends PathBypassOutcome {
  listener: "base" | "strict-paths";
  /** Sent byte for byte as the HTTP/1.1 request target. */
  path: string;
  /** Where fetch hosts differ: the reason and the outcome they must show instead. */
  fetchHost?: PathBypassOutcome & { reason: string };
}

const URL_FRAGMENT = "the runtime parses the target as a URL: `#...` becomes the fragment (never sent upstream), so the request is for the path before it";

export const pathBypassCases: readonly PathBypassCase[] = [
  { listener: "base", path: "/a/../admin", status: 403, flag: "-" },
  { listener: "base", path: "/public/%2e%2e/admin", status: 403, flag: "-" },
  { listener: "base", path: "/./admin", status: 403, flag: "-" },
  { listener: "base", path: "/admin/../public", status: 200, flag: "-", upstream: "/public" },
  { listener: "base", path: "/admin;jsessionid=1", status: 403, flag: "-" },
  { listener: "base", path: "/admin?next=/public", status: 403, flag: "-" },
  { listener: "base", path: "/admin%00.html", status: 400, flag: "DPE" },
  { listener: "base", path: "/public#/../admin", status: 400, flag: "DPE", fetchHost: { reason: URL_FRAGMENT, status: 200, flag: "-", upstream: "/public" } },
  { listener: "base", path: "/%zz", status: 400, flag: "DPE" },
  // BASE keeps %2F and //: the upstream gets them unchanged, and they do not name /admin.
  { listener: "base", path: "/x/%2F..%2Fadmin", status: 200, flag: "-", upstream: "/x/%2F..%2Fadmin" },
  // Double encoding is decoded once at most: %252e stays %252e, so no dot segment appears.
  { listener: "base", path: "/public/%252e%252e/admin", status: 200, flag: "-", upstream: "/public/%252e%252e/admin" },
  { listener: "strict-paths", path: "//admin", status: 403, flag: "-" },
  { listener: "strict-paths", path: "/%2Fadmin", status: 403, flag: "-" },
  { listener: "strict-paths", path: "/%5Cadmin", status: 403, flag: "-" },
  { listener: "strict-paths", path: "/%252Fadmin", status: 200, flag: "-", upstream: "/%252Fadmin" },
  // Dot segments are resolved before slashes merge (as Envoy does): /x//..//admin → /x//admin → /x/admin.
  { listener: "strict-paths", path: "/x/%2F..%2Fadmin", status: 200, flag: "-", upstream: "/x/admin" },
  { listener: "strict-paths", path: "/public//a", status: 200, flag: "-", upstream: "/public/a" },
];
