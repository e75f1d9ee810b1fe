// Smoke test for the workerd peer: the real workerd serves an ES-module worker (config written in
// Cap'n Proto on a free loopback port) and answers fetches with Web-standard APIs.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import workerd, { type WorkerdHandle } from "../peers/workerd/peer.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, workerd);

const worker = `import { greet } from "./greet.js";
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(url.pathname)));
    return Response.json({ message: greet(url.searchParams.get("name")), method: request.method, digestLength: digest.length,
      runtime: navigator.userAgent });
  },
};
`;

describe.skipIf(!ready)("workerd smoke", () => {
  let server: WorkerdHandle;
  beforeAll(async () => {
    server = await workerd.start({ modules: { "worker.js": worker, "greet.js": "export const greet = (n) => `hello ${n}`;\n" } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("runs a worker and answers a fetch", async () => {
    const response = await fetch(`${server.url}/weft?name=mesh`, { method: "POST", body: "x" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ message: "hello mesh", method: "POST", digestLength: 32, runtime: "Cloudflare-Workers" });
  });
});
