// Table tests: listener layouts (API listener for proxyless gRPC, inbound HTTP/TCP, outbound HTTP/TCP).
import { toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ListenerSchema, type Listener } from "../../../gen/proto/envoy/config/listener/v3/listener_pb.ts";
import { nestedRegistry } from "../resource-types.ts";
import { createIssueSink } from "../../../proxy/xds/issues.ts";
import { translateListener } from "../../../proxy/xds/listener.ts";
import { normalizeTarget } from "../../../proxy/request-target.ts";
import { apiListener, inboundListener, outboundListener } from "./listener.ts";

type Json = Record<string, any>;
const json = (l: Listener) => toJson(ListenerSchema, l, { registry: nestedRegistry }) as Json;
const filterNames = (chain: Json) => (chain.filters as Json[]).map((f) => f.name);
const httpFilterNames = (chain: Json) => (chain.filters[0].typedConfig.httpFilters as Json[]).map((f) => f.name);

describe("listeners", () => {
  it("API listener: HCM over RDS from ADS with the router last", () => {
    const l = json(apiListener("svc.ns:80", "svc.ns:80"));
    expect(l).toEqual({
      name: "svc.ns:80",
      apiListener: { apiListener: {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        statPrefix: "svc.ns:80",
        rds: { configSource: { ads: {}, resourceApiVersion: "V3" }, routeConfigName: "svc.ns:80" },
        httpFilters: [{ name: "envoy.filters.http.router", typedConfig: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
      } },
    });
  });

  it("inbound TCP: network filters before the TCP proxy, mTLS chain from SDS", () => {
    const l = json(inboundListener({ name: "inbound|5432", address: "0.0.0.0", port: 15432, protocol: "tcp", cluster: "inbound|5432||", mtls: "STRICT" }));
    expect(l.filterChains).toHaveLength(1);
    expect(filterNames(l.filterChains[0])).toEqual(["envoy.filters.network.tcp_proxy"]);
    expect(l.filterChains[0].filters[0].typedConfig.cluster).toBe("inbound|5432||");
    const tls = l.filterChains[0].transportSocket.typedConfig;
    expect(tls["@type"]).toBe("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext");
    expect(tls.requireClientCertificate).toBe(true);
    expect(tls.commonTlsContext.tlsCertificateSdsSecretConfigs[0].name).toBe("default");
    expect(tls.commonTlsContext.combinedValidationContext.validationContextSdsSecretConfig.name).toBe("ROOTCA");
  });

  it("inbound HTTP with DISABLE: one plaintext chain; fault and CORS before the router", () => {
    const l = json(inboundListener({ name: "inbound|8080", address: "0.0.0.0", port: 18080, protocol: "http", mtls: "DISABLE", fault: true, cors: true }));
    expect(l.filterChains.map((c: Json) => c.name)).toEqual(["inbound|8080-plaintext"]);
    expect(l.filterChains[0].transportSocket).toBeUndefined();
    expect(httpFilterNames(l.filterChains[0])).toEqual(["envoy.filters.http.fault", "envoy.filters.http.cors", "envoy.filters.http.router"]);
  });

  it("outbound TCP goes straight to its cluster; outbound HTTP routes over RDS", () => {
    const tcp = json(outboundListener({ name: "outbound|6379", address: "127.0.0.1", port: 6379, protocol: "tcp", cluster: "outbound|6379||redis" }));
    expect(tcp.address).toEqual({ socketAddress: { address: "127.0.0.1", portValue: 6379 } });
    expect(tcp.filterChains[0].filters[0].typedConfig.cluster).toBe("outbound|6379||redis");
    const http = json(outboundListener({ name: "outbound|80", address: "127.0.0.1", port: 80, protocol: "http", routeConfigName: "80" }));
    expect(http.filterChains[0].filters[0].typedConfig.rds.routeConfigName).toBe("80");
  });
});

describe("path normalization in the sidecar HCM (as istiod sets it from MeshConfig pathNormalization)", () => {
  const hcmOf = (l: Listener) => json(l).filterChains[0].filters[0].typedConfig as Json;
  const normalization = (h: Json) => ({ normalizePath: h.normalizePath, mergeSlashes: h.mergeSlashes, pathWithEscapedSlashesAction: h.pathWithEscapedSlashesAction });

  it("defaults to BASE on inbound and outbound HTTP listeners: normalize_path, escaped slashes kept", () => {
    const expected = { normalizePath: true, mergeSlashes: undefined, pathWithEscapedSlashesAction: "KEEP_UNCHANGED" };
    expect(normalization(hcmOf(inboundListener({ name: "inbound|8080", address: "0.0.0.0", port: 18080, protocol: "http", mtls: "DISABLE" })))).toEqual(expected);
    expect(normalization(hcmOf(outboundListener({ name: "outbound|80", address: "127.0.0.1", port: 80, protocol: "http" })))).toEqual(expected);
  });

  it.each([
    ["NONE", { normalizePath: false, mergeSlashes: undefined, pathWithEscapedSlashesAction: "KEEP_UNCHANGED" }],
    ["BASE", { normalizePath: true, mergeSlashes: undefined, pathWithEscapedSlashesAction: "KEEP_UNCHANGED" }],
    ["MERGE_SLASHES", { normalizePath: true, mergeSlashes: true, pathWithEscapedSlashesAction: "KEEP_UNCHANGED" }],
    ["DECODE_AND_MERGE_SLASHES", { normalizePath: true, mergeSlashes: true, pathWithEscapedSlashesAction: "UNESCAPE_AND_FORWARD" }],
  ] as const)("%s sets istiod's fields", (mode, expected) => {
    expect(normalization(hcmOf(inboundListener({ name: "in", address: "0.0.0.0", port: 1, protocol: "http", mtls: "DISABLE", pathNormalization: mode })))).toEqual(expected);
    expect(normalization(hcmOf(outboundListener({ name: "out", address: "0.0.0.0", port: 2, protocol: "http", pathNormalization: mode })))).toEqual(expected);
  });

  it.each(["NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"] as const)("a weft proxy fed the %s listener normalizes like a file-configured one", (mode) => {
    const issues = createIssueSink("listener", "out");
    const draft = translateListener(outboundListener({ name: "out", address: "127.0.0.1", port: 2, protocol: "http", pathNormalization: mode }), { available: new Set(["router"]) }, issues);
    const chain = draft?.chains[0]?.terminal;
    expect(chain?.kind).toBe("http");
    const fed = chain?.kind === "http" ? chain.hcm.settings.pathNormalization : undefined;
    expect(fed).toBe(mode);
    for (const target of ["/a/../admin", "/a//b", "/a/%2e%2e/admin", "/a%2Fb"]) expect(normalizeTarget(target, fed!)).toBe(normalizeTarget(target, mode));
    if (mode !== "NONE") expect(normalizeTarget("/a/../admin", fed!)).toBe("/admin");
  });
});
