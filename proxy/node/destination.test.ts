/**
 * Destination address and port for filters on the Node host: the `FilterStream` connection carries the
 * listener's local address and port, so Envoy RBAC rules on `destination_port`/`destination_ip` and weft
 * RBAC `ports` decide on the port the request arrived on (HTTP/1.1 and h2c), over real sockets.
 */
import { connect as h2connect } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProxyConfig } from "../config/load.ts";
import { createFilterCatalog } from "../filter.ts";
import { httpFilters } from "../../plugins/registry.ts";
import { startProxy, startUpstream, type TestProxy, type Upstream } from "./test-support.ts";

function configYaml(upPort: number, allowPort: number): string {
  const envoyRbac = JSON.stringify({
    rules: { action: "ALLOW", policies: { "by-port": { permissions: [{ andRules: { rules: [{ destinationPort: allowPort }, { destinationIp: { addressPrefix: "127.0.0.1", prefixLen: 32 } }] } }], principals: [{ any: true }] } } },
  });
  const weftRbac = `
        - name: rbac
          config:
            namespace: default
            policies:
              - apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: { name: by-port, namespace: default }
                spec:
                  action: ALLOW
                  rules: [{ to: [{ operation: { ports: ["${allowPort}"] } }] }]`;
  const routes = `
      virtualHosts:
        - name: all
          domains: ["*"]
          routes: [{ route: { cluster: up } }]`;
  const listener = (name: string, filter: string) => `
  - name: ${name}
    address: 127.0.0.1:0
    http:
      accessLog: true
      filters:${filter}
        - name: router${routes}`;
  return `listeners:${listener("envoy-a", `\n        - name: envoy.filters.http.rbac\n          config: ${envoyRbac}`)}${listener("envoy-b", `\n        - name: envoy.filters.http.rbac\n          config: ${envoyRbac}`)}${listener("weft-a", weftRbac)}${listener("weft-b", weftRbac)}
clusters:
  - name: up
    endpoints: [127.0.0.1:${upPort}]
`;
}

describe("destination port and address reach the filters", () => {
  let up: Upstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    up = await startUpstream((_req, res) => res.end("ok"));
    // Listeners bind port 0; once bound, the policies are re-applied with listener "*-a"'s port allowed
    // (same addresses, so the listeners are kept).
    proxy = await startProxy(configYaml(up.port, 1));
    const envoyA = proxy.port("envoy-a");
    const weftA = proxy.port("weft-a");
    expect(weftA).not.toBe(envoyA);
    // Each pair allows its own "a" port: the listeners come from two loads of the config.
    const envoyCfg = loadProxyConfig(configYaml(up.port, envoyA), "envoy.yaml", createFilterCatalog(httpFilters));
    const weftCfg = loadProxyConfig(configYaml(up.port, weftA), "weft.yaml", createFilterCatalog(httpFilters));
    if (!envoyCfg.ok || !weftCfg.ok) throw new Error("config did not load");
    const listeners = [...envoyCfg.config.listeners.filter((l) => l.name.startsWith("envoy-")), ...weftCfg.config.listeners.filter((l) => l.name.startsWith("weft-"))];
    await proxy.server.apply({ ...envoyCfg.config, listeners });
    expect(proxy.port("envoy-a")).toBe(envoyA);
    expect(proxy.port("weft-a")).toBe(weftA);
  });
  afterAll(async () => {
    await proxy.close();
    await up.close();
  });

  it.each(["envoy", "weft"])("%s RBAC over HTTP/1.1: allowed on the listed port, denied on another", async (kind) => {
    const a = await fetch(`http://127.0.0.1:${proxy.port(`${kind}-a`)}/x`);
    expect(a.status).toBe(200);
    expect(await a.text()).toBe("ok");
    const b = await fetch(`http://127.0.0.1:${proxy.port(`${kind}-b`)}/x`);
    expect(b.status).toBe(403);
    await b.text();
  });

  it.each(["envoy", "weft"])("%s RBAC over h2c: allowed on the listed port, denied on another", async (kind) => {
    const status = async (listener: string) => {
      const session = h2connect(`http://127.0.0.1:${proxy.port(listener)}`);
      try {
        return await new Promise<number>((resolve, reject) => {
          const s = session.request({ ":path": "/x" });
          s.on("response", (h) => resolve(Number(h[":status"])));
          s.on("error", reject);
          s.resume();
        });
      } finally {
        session.close();
      }
    };
    expect(await status(`${kind}-a`)).toBe(200);
    expect(await status(`${kind}-b`)).toBe(403);
  });
});
