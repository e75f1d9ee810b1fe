/**
 * Service-account tokens checked against a JWKS fetched from a URL (a real HTTP server on port 0 that,
 * like the API server's /openid/v1/jwks, wants a bearer token).
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { AuthenticationError } from "./caller.ts";
import { createKubernetesJwtAuthenticator } from "./kube-jwt.ts";

const ISSUER = "https://kubernetes.default.svc.cluster.local";

describe("Kubernetes service-account tokens with a JWKS URL", () => {
  it("fetches the keys with the configured headers and maps the subject to a SPIFFE ID", async () => {
    const k = await generateKeyPair("ES256", { extractable: true });
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(k.publicKey)), kid: "k1", alg: "ES256" }] });
    let fetches = 0;
    const server = createServer((req, res) => {
      fetches++;
      if (req.headers.authorization !== "Bearer reader") return void res.writeHead(401).end();
      res.writeHead(200, { "content-type": "application/json" }).end(jwks);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/openid/v1/jwks`;
    try {
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ iss: ISSUER, aud: ["istio-ca"], sub: "system:serviceaccount:shop:web", iat: now, exp: now + 600 })
        .setProtectedHeader({ alg: "ES256", kid: "k1" }).sign(k.privateKey);
      const call = { authorization: `Bearer ${token}`, peerCertificates: [] };
      const auth = createKubernetesJwtAuthenticator({ trustDomain: "td.example", issuer: ISSUER, jwksUri: url, jwksHeaders: { authorization: "Bearer reader" } });
      expect(await auth.authenticate(call)).toEqual({ spiffeId: "spiffe://td.example/ns/shop/sa/web", method: "kubernetes-jwt" });
      expect(await auth.authenticate({ peerCertificates: [] })).toBeUndefined();
      const noHeaders = createKubernetesJwtAuthenticator({ trustDomain: "td.example", issuer: ISSUER, jwksUri: url });
      await expect(noHeaders.authenticate(call)).rejects.toThrow(AuthenticationError);
      expect(fetches).toBe(2);
    } finally {
      server.close();
    }
  });
});
