/**
 * The admin app behind @hono/node-server on a real socket: bodies without Content-Length (a bare
 * DELETE, a chunked POST) and a chunked body over the cap.
 */
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { createTestControl, POLICY_YAML, TEST_TOKEN } from "../admin/test-fixtures.ts";
import { startAdminServer } from "./admin-server.ts";

function send(url: string, method: string, chunks: string[] | null, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { authorization: `Bearer ${TEST_TOKEN}`, ...headers } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    if (chunks) for (const c of chunks) req.write(c); // no content-length: Node sends chunked
    req.end();
  });
}

describe("admin server over a real socket", () => {
  it("handles bodies without Content-Length and caps chunked bodies", async () => {
    const control = await createTestControl({ maxBodyBytes: 64 * 1024 });
    const server = await startAdminServer(control.app, { host: "127.0.0.1", port: 0 });
    try {
      const applied = await send(`${server.url}/v1/resources`, "POST", [POLICY_YAML.slice(0, 40), POLICY_YAML.slice(40)], { "content-type": "application/yaml" });
      expect(applied.status).toBe(200);
      const del = await send(`${server.url}/v1/resources/AuthorizationPolicy/foo/httpbin`, "DELETE", null);
      expect(del.status).toBeLessThan(500);
      const big = await send(`${server.url}/v1/resources`, "POST", Array(20).fill("x".repeat(8 * 1024)), { "content-type": "application/yaml" });
      expect(big.status).toBe(413);
    } finally {
      await server.close();
    }
  });
});
