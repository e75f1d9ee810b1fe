// Smoke test for the Prometheus peer: a real Prometheus scrapes a tiny Node HTTP server exposing one
// metric, and the value comes back through the query API.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../peers/lib.ts";
import prometheus, { type PrometheusHandle } from "../peers/prometheus/peer.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, prometheus);

interface QueryResult {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe.skipIf(!ready)("prometheus smoke", () => {
  let target: Server;
  let prom: PrometheusHandle;
  beforeAll(async () => {
    target = createServer((req, res) => {
      if (req.url !== "/metrics") return res.writeHead(404).end();
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end("# HELP weft_interop_smoke_total Requests seen by the smoke target.\n" +
        "# TYPE weft_interop_smoke_total counter\n" +
        'weft_interop_smoke_total{route="/hello",code="200"} 42\n');
    });
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    const port = (target.address() as AddressInfo).port;
    prom = await prometheus.start({ scrapeConfigs: [{ job_name: "smoke", static_configs: [{ targets: [`127.0.0.1:${port}`] }] }] });
  });
  afterAll(async () => {
    await prom?.stop();
    await new Promise((r) => target?.close(r));
  });

  it("scrapes the test target and answers a query for its metric", async () => {
    let result: QueryResult | undefined;
    const url = `${prom.url}/api/v1/query?query=${encodeURIComponent('weft_interop_smoke_total{job="smoke"}')}`;
    await waitFor(async () => {
      result = (await (await fetch(url)).json()) as QueryResult;
      return result.data.result.length > 0;
    }, { what: "the smoke metric in prometheus", logPath: prom.logPath, timeoutMs: 60_000 });
    expect(result?.status).toBe("success");
    expect(result?.data.resultType).toBe("vector");
    const [sample] = result!.data.result;
    expect(sample?.metric).toMatchObject({ __name__: "weft_interop_smoke_total", job: "smoke", route: "/hello", code: "200" });
    expect(sample?.value[1]).toBe("42");

    const up = (await (await fetch(`${prom.url}/api/v1/query?query=up`)).json()) as QueryResult;
    expect(up.data.result.find((r) => r.metric.job === "smoke")?.value[1]).toBe("1");
  });
});
