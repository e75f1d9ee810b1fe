import { describe, expect, it } from "vitest";
import { inboundMesh, sampleRequest } from "./fixtures.ts";
import { compileLogFilter, parseDuration } from "./log-filter.ts";

function matches(expr: string, over: Parameters<typeof sampleRequest>[0] = {}): boolean {
  const { filter, diagnostics } = compileLogFilter(expr);
  expect(diagnostics).toEqual([]);
  return filter!(inboundMesh, sampleRequest(over));
}

describe("access-log filter (CEL subset)", () => {
  it.each([
    ["response.code >= 400", { status: 503 }, true],
    ["response.code >= 400", { status: 200 }, false],
    ["response.code == 404 || response.code == 503", { status: 404 }, true],
    ["response.flags != 0", { responseFlags: "UF" }, true],
    ["response.flags != 0", { responseFlags: "" }, false],
    ["response.flags == 0", { responseFlags: "" }, true],
    ['response.flags.contains("UF")', { responseFlags: "URX,UF" }, true],
    ['response.flags == "-"', { responseFlags: "" }, true],
    ["response.code >= 500 && !connection.mtls", { status: 503 }, false],
    ["(response.code >= 500 || response.flags != 0) && request.method == 'GET'", { status: 200, responseFlags: "DC" }, true],
    ["response.code in [500, 502, 503]", { status: 502 }, true],
    ["request.method in ['POST', 'PUT']", {}, false],
    ['request.url_path.startsWith("/reviews")', {}, true],
    ['request.path.endsWith("x=1")', {}, true],
    ['request.duration > duration("4ms")', { durationMs: 4.6 }, true],
    ['request.duration > duration("1s")', { durationMs: 4.6 }, false],
    ["has(response.grpc_status)", {}, false],
    ["has(response.grpc_status) && response.grpc_status != 0", { protocol: "grpc", grpcStatus: 14 }, true],
    ['source.principal == "spiffe://cluster.local/ns/default/sa/productpage"', {}, true],
    ["true", {}, true],
  ] as const)("%s", (expr, over, expected) => {
    expect(matches(expr, over)).toBe(expected);
  });

  it("does not log when evaluation meets a type mismatch, as Envoy", () => {
    expect(matches('response.code > "abc"')).toBe(false);
    expect(matches("response.grpc_status == 0")).toBe(false);
    expect(matches("!response.code")).toBe(false);
  });

  it.each([
    ["response.code >=", /column 17: expression ends too early/],
    ["response.cod >= 1", /column 1: unknown attribute "response.cod"/],
    ["response.code >= 1 )", /column 20: unexpected "\)"/],
    ["'abc", /unterminated string/],
    ["request.path.matches('a')", /unsupported method "matches"/],
    ['duration("soon")', /duration\(\) takes a string/],
    ["response.code # 1", /unexpected character "#"/],
  ])("reports a syntax error for %s", (expr, message) => {
    const { filter, diagnostics } = compileLogFilter(expr, { object: "Telemetry/default/mesh", path: "spec.accessLogging[0].filter" });
    expect(filter).toBeUndefined();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: "error", object: "Telemetry/default/mesh", path: "spec.accessLogging[0].filter" });
    expect(diagnostics[0]!.message).toMatch(message);
  });

  it("parses durations", () => {
    expect([parseDuration("1.5s"), parseDuration("200ms"), parseDuration("2m"), parseDuration("10us"), parseDuration("x")])
      .toEqual([1500, 200, 120000, 0.01, undefined]);
  });
});
