import { describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../core/schema/index.ts";
import { allKinds } from "../../core/resources/all-kinds.ts";
import { loadConsulEntries, parseEntry } from "./entries.ts";
import { canonicalKey, formatGoDuration, parseGoDuration, snakeCase } from "./fields.ts";
import { loadMixed } from "./load-mixed.ts";
import type { ServiceIntentionsEntry, ServiceResolverEntry } from "./schema.ts";

const errors = (raw: unknown) => parseEntry(raw).diagnostics.filter((d) => d.severity === "error").map((d) => `${d.object}: ${d.path ?? ""}: ${d.message}`);

describe("reading keys as Consul does", () => {
  it("accepts any letter case and the snake_case aliases, and normalizes to PascalCase", () => {
    const r = parseEntry({ kind: "service-intentions", NAME: "api", sources: [{ name: "web", PERMISSIONS: [{ action: "allow", http: { path_prefix: "/v1", Methods: ["get"], header: [{ name: "x", exact: "1", ignore_case: true }] } }] }] });
    expect(r.diagnostics).toEqual([]);
    const e = r.entry!.entry as ServiceIntentionsEntry;
    expect(e.Sources![0]!.Permissions![0]!.HTTP).toEqual({ PathPrefix: "/v1", Methods: ["get"], Header: [{ Name: "x", Exact: "1", IgnoreCase: true }] });
  });

  it("reads a one-element list as the object inside it (HCL decoding)", () => {
    const r = parseEntry({ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Permissions: [{ Action: "allow", HTTP: [{ PathExact: "/" }] }] }] });
    expect(r.diagnostics).toEqual([]);
  });

  it("ignores CreateIndex/ModifyIndex and reads back what `consul config read` prints", () => {
    const r = parseEntry({ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "allow", Precedence: 9, Type: "consul" }], CreateIndex: 12, ModifyIndex: 12, Hash: 123 });
    expect(r.diagnostics).toEqual([]);
  });

  it("spells aliases as Consul's alias tags do", () => {
    expect(snakeCase("ExternalSNI")).toBe("external_sni");
    expect(snakeCase("RetryOnStatusCodes")).toBe("retry_on_status_codes");
    expect(canonicalKey("enforcing_consecutive_5xx", ["EnforcingConsecutive5xx"])).toBe("EnforcingConsecutive5xx");
    expect(canonicalKey("max_request_headers_kb", ["MaxRequestHeadersKB"])).toBeUndefined();
  });

  it("parses Go durations", () => {
    expect(parseGoDuration("1m30s")).toBe(90_000);
    expect(parseGoDuration("250ms")).toBe(250);
    expect(parseGoDuration("1.5h")).toBe(5_400_000);
    expect(parseGoDuration(2_000_000_000)).toBe(2000);
    expect(parseGoDuration("5 s")).toBeNull();
    expect(formatGoDuration(90_000)).toBe("1m30s");
    expect(formatGoDuration(250)).toBe("250ms");
  });
});

describe("Consul's write-time checks, naming Kind/Name and field", () => {
  it("service-intentions", () => {
    expect(errors({ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "allow", Permissions: [{ Action: "allow", HTTP: { PathPrefix: "/" } }] }] }))
      .toEqual(["service-intentions/api: Sources[0].Action: Action must be omitted if Permissions are specified"]);
    expect(errors({ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Permissions: [{ Action: "allow", HTTP: { PathExact: "x", PathPrefix: "/y" } }] }] }))
      .toEqual([
        "service-intentions/api: Sources[0].Permissions[0].HTTP.PathExact: PathExact doesn't start with '/': \"x\"",
        "service-intentions/api: Sources[0].Permissions[0].HTTP: should only contain at most one of PathExact, PathPrefix, or PathRegex",
      ]);
    expect(errors({ Kind: "service-intentions", Name: "*", Sources: [{ Name: "we*", Action: "allow" }, { Name: "db", Permissions: [{ Action: "allow", HTTP: { Methods: ["FETCH"] } }] }] }))
      .toEqual([
        "service-intentions/*: Sources[0].Name: wildcard character '*' cannot be used with partial values",
        "service-intentions/*: Sources[1].Permissions: Permissions cannot be specified on intentions with wildcarded destinations",
        "service-intentions/*: Sources[1].Permissions[0].HTTP.Methods[0]: Methods contains an invalid method \"FETCH\"",
      ]);
    expect(errors({ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Permissions: [{ Action: "deny", HTTP: { Header: [{ Name: "x", Exact: "a", Regex: "b" }, { Name: "y", Regex: "(?=a)" }] } }] }] }))
      .toEqual([
        "service-intentions/api: Sources[0].Permissions[0].HTTP.Header[0]: should only contain one of Present, Exact, Prefix, Suffix, Contains, or Regex",
        "service-intentions/api: Sources[0].Permissions[0].HTTP.Header[1].Regex: look-around is not supported by RE2: (?=a)",
      ]);
    expect(errors({ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "allow" }, { Name: "web", Action: "deny" }] }))
      .toEqual(["service-intentions/api: Sources[1]: defines \"web\" more than once"]);
    expect(errors({ Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "allow", Permisions: [] }] }))
      .toEqual(["service-intentions/api: Sources[0].Permisions: unknown field \"Permisions\" (did you mean \"Permissions\"?)"]);
  });

  it("service-splitter, service-router, service-resolver, proxy-defaults", () => {
    expect(errors({ Kind: "service-splitter", Name: "web", Splits: [{ Weight: 50 }, { Weight: 49.99, ServiceSubset: "v2" }] }))
      .toEqual(["service-splitter/web: Splits: the sum of all split weights must be 100, not 99.99"]);
    expect(errors({ Kind: "service-router", Name: "web", Routes: [{ Match: { HTTP: { PathRegex: "/a", QueryParam: [{ Name: "q" }] } }, Destination: { PrefixRewrite: "/", RetryOn: ["5xx", "sometimes"] } }] }))
      .toEqual([
        "service-router/web: Routes[0].Match.HTTP.QueryParam[0]: should only contain one of Present, Exact, or Regex",
        "service-router/web: Routes[0].Destination.PrefixRewrite: cannot make use of PrefixRewrite without configuring either PathExact or PathPrefix",
        "service-router/web: Routes[0].Destination.RetryOn[1]: invalid retry condition: \"sometimes\"",
      ]);
    expect(errors({ Kind: "service-resolver", Name: "web", DefaultSubset: "v3", Subsets: { V1: { Filter: "Service.Meta.version == v1" } }, LoadBalancer: { Policy: "ring_hash", LeastRequestConfig: { ChoiceCount: 2 } }, ConnectTimeout: "5 seconds" }))
      .toEqual([
        "service-resolver/web: ConnectTimeout: must be a duration such as \"15s\", \"1m30s\" or \"250ms\"",
      ]);
    expect(errors({ Kind: "service-resolver", Name: "web", DefaultSubset: "v3", Subsets: { V1: { Filter: "Service.Meta.version == v1" } }, LoadBalancer: { Policy: "ring_hash", LeastRequestConfig: { ChoiceCount: 2 } } })).toEqual([
      "service-resolver/web: Subsets.V1: subset \"V1\" is invalid: must be 63 characters or fewer, begin and end with a lower-case letter or digit, and contain only lower-case letters, digits or '-'",
      "service-resolver/web: DefaultSubset: DefaultSubset \"v3\" is not a valid subset",
      "service-resolver/web: LoadBalancer.LeastRequestConfig: LeastRequestConfig specified for incompatible load balancing policy \"ring_hash\"",
    ]);
    expect(errors({ Kind: "proxy-defaults", Name: "mine", Config: { protocol: "http" } })).toEqual(["proxy-defaults/mine: Name: invalid name \"mine\", only \"global\" is supported"]);
    expect(errors({ Kind: "mesh", Name: "mesh" })).toEqual(["mesh/mesh: Kind: weft does not read config entries of kind \"mesh\" (known: service-intentions, service-router, service-splitter, service-resolver, service-defaults, proxy-defaults, jwt-provider)"]);
  });
});

describe("loading files", () => {
  it("reads a JSON array, points at file:line of the field, and keeps the valid entries", () => {
    const text = `[
  {"Kind": "service-resolver", "Name": "web", "Subsets": {"v1": {"Filter": "Service.Meta.version == v1"}}},
  {"Kind": "service-intentions", "Name": "api", "Sources": [
    {"Name": "web", "action": "permit"}
  ]}
]`;
    const r = loadConsulEntries(text, "entries.json");
    expect(r.entries.map((e) => e.ref)).toEqual(["service-resolver/web"]);
    expect((r.entries[0]!.entry.entry as ServiceResolverEntry).Subsets).toEqual({ v1: { Filter: "Service.Meta.version == v1" } });
    expect(r.diagnostics.map(formatDiagnostic)).toEqual(["entries.json:4:31: error: service-intentions/api: Sources[0].Action: Action must be set to 'allow' or 'deny'"]);
  });

  it("separates Consul entries from Istio resources in one multi-document file", () => {
    const text = `Kind: service-intentions
Name: api
Sources: [{Name: web, Action: allow}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: default}
spec: {action: DENY, rules: [{}]}
`;
    const r = loadMixed(text, allKinds, "mixed.yaml");
    expect(r.diagnostics).toEqual([]);
    expect(r.consul.map((e) => `${e.ref}@${e.line}`)).toEqual(["service-intentions/api@1"]);
    expect(r.resources.map((x) => x.object.kind)).toEqual(["AuthorizationPolicy"]);
  });
});
