/**
 * @module core/policy/corpus/normalization
 * Cases for path normalization before matching (meshConfig.pathNormalization): BASE (default: RFC 3986 dot
 * segments, %2E and unreserved characters decoded, backslash to slash, %2F kept), MERGE_SLASHES,
 * DECODE_AND_MERGE_SLASHES and NONE, exercised as DENY-policy bypass attempts.
 */
import { DOCS, http, type CorpusCase } from "./case.ts";
import type { PathNormalization } from "../types.ts";

const PRACTICES = `${DOCS}/ops/best-practices/security/#customize-your-system-on-path-normalization`;
const NORMALIZATION = `${DOCS}/reference/config/security/normalization/`;

const DENY_ADMIN = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-admin
  namespace: foo
spec:
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/admin", "/admin/*"]
`;

const denied = (name: string, path: string) => ({ name, request: http("GET", path), expect: { decision: "deny" as const, policy: "foo/deny-admin" } });
const allowed = (name: string, path: string) => ({ name, request: http("GET", path), expect: { decision: "allow" as const, policy: null } });

const withMode = (mode: PathNormalization | undefined) => (mode ? { options: { pathNormalization: mode } } : {});

export const normalizationCases: CorpusCase[] = [
  {
    name: "BASE (default): dot segments, %2E, unreserved escapes and backslashes are normalized",
    source: NORMALIZATION,
    note: "Normalization page: %2e, %41-%5a, %61-%7a, %2d, %5f, %7e are decoded and backslash becomes / under BASE; /./ and /../ are resolved per RFC 3986.",
    ...withMode(undefined),
    policies: DENY_ADMIN,
    requests: [
      denied("/admin is denied", "/admin"),
      denied("/public/../admin is denied", "/public/../admin"),
      denied("/./admin/./users is denied", "/./admin/./users"),
      denied("/../admin is denied (.. above the root)", "/../admin"),
      denied("/public/%2e%2e/admin is denied", "/public/%2e%2e/admin"),
      denied("/public/%2E%2E/admin is denied", "/public/%2E%2E/admin"),
      denied("/%61dmin is denied (%61 is a)", "/%61dmin"),
      denied("/adm%69n is denied (%69 is i)", "/adm%69n"),
      denied("/public\\..\\admin is denied (backslashes)", "/public\\..\\admin"),
      allowed("/admin/../public is allowed", "/admin/../public"),
      allowed("/ADMIN is allowed (paths are case-sensitive)", "/ADMIN"),
      allowed("//admin is allowed (BASE does not merge slashes)", "//admin"),
      allowed("/public%2F..%2Fadmin is allowed (BASE keeps %2F)", "/public%2F..%2Fadmin"),
    ],
  },
  {
    name: "BASE stated explicitly behaves as the default",
    source: PRACTICES,
    ...withMode("BASE"),
    policies: DENY_ADMIN,
    requests: [
      denied("/a/../admin is denied", "/a/../admin"),
      allowed("/a//admin is allowed", "/a//admin"),
    ],
  },
  {
    name: "MERGE_SLASHES merges slashes after BASE",
    source: PRACTICES,
    ...withMode("MERGE_SLASHES"),
    policies: DENY_ADMIN,
    requests: [
      denied("//admin is denied", "//admin"),
      denied("//admin//users is denied", "//admin//users"),
      denied("///public/..//admin is denied", "///public/..//admin"),
      allowed("/public%2F..%2Fadmin is allowed (%2F still kept)", "/public%2F..%2Fadmin"),
    ],
  },
  {
    name: "DECODE_AND_MERGE_SLASHES decodes %2F and %5C first",
    source: PRACTICES,
    note: "Best practices: 1. percent-decode %2F %2f %5C %5c, 2. RFC 3986 normalization, 3. merge slashes.",
    ...withMode("DECODE_AND_MERGE_SLASHES"),
    policies: DENY_ADMIN,
    requests: [
      denied("/public%2F..%2Fadmin is denied", "/public%2F..%2Fadmin"),
      denied("/public%2f..%2fadmin is denied", "/public%2f..%2fadmin"),
      denied("/public%5C..%5Cadmin is denied", "/public%5C..%5Cadmin"),
      denied("/admin%2Fusers is denied", "/admin%2Fusers"),
      denied("//admin is denied", "//admin"),
      allowed("/adminx is allowed", "/adminx"),
    ],
  },
  {
    name: "NONE: paths are matched as received",
    source: PRACTICES,
    ...withMode("NONE"),
    policies: DENY_ADMIN,
    requests: [
      denied("/admin is denied", "/admin"),
      allowed("/public/../admin is allowed (no normalization)", "/public/../admin"),
      denied("/admin?x=1 is denied (the query is still removed)", "/admin?x=1"),
    ],
  },
  {
    name: "ALLOW-with-positive-matching cannot be widened by dot segments",
    source: `${DOCS}/ops/best-practices/security/#use-allow-with-positive-matching-and-deny-with-negative-match-patterns`,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: foo
  namespace: foo
spec:
  action: ALLOW
  rules:
  - to:
    - operation:
        paths: ["/public", "/static/*"]
`,
    requests: [
      { name: "/public is allowed", request: http("GET", "/public"), expect: { decision: "allow", policy: "foo/foo" } },
      { name: "/public/ is denied", request: http("GET", "/public/"), expect: { decision: "deny", policy: null } },
      { name: "/static/../admin is denied", request: http("GET", "/static/../admin"), expect: { decision: "deny", policy: null } },
      { name: "/admin/../static/app.js is allowed", request: http("GET", "/admin/../static/app.js"), expect: { decision: "allow", policy: "foo/foo" } },
    ],
  },
  {
    name: "DENY-with-negative-matching: notPaths [/public]",
    source: `${DOCS}/ops/best-practices/security/#use-allow-with-positive-matching-and-deny-with-negative-match-patterns`,
    policies: `
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: foo
  namespace: foo
spec:
  action: DENY
  rules:
  - to:
    - operation:
        notPaths: ["/public"]
`,
    requests: [
      { name: "/public is allowed", request: http("GET", "/public"), expect: { decision: "allow", policy: null } },
      { name: "/public/./ is denied", request: http("GET", "/public/./"), expect: { decision: "deny", policy: "foo/foo" } },
      { name: "/x/../public is allowed", request: http("GET", "/x/../public"), expect: { decision: "allow", policy: null } },
    ],
  },
];
