/**
 * @module control/demo/sidecar-config
 * The proxy config of each demo sidecar, as the template the control plane's config feed serves (the
 * feed adds the store's AuthorizationPolicies to the inbound `rbac` filter): an inbound listener that
 * terminates mTLS with the sidecar's SVID (STRICT) and enforces policy in front of the local app, an
 * outbound listener on loopback that routes by Host to the other services over mTLS (each peer verified
 * by its SPIFFE ID), and for the frontend an ingress listener for the user. Also the small demo filter
 * that reports the deciding policy of an allowed request in `x-weft-authz-policy`.
 */
import { stringify } from "yaml";
import type { HttpFilterFactory } from "../../proxy/filter.ts";
import { z } from "../../core/schema/index.ts";
import { RBAC_KEY, type RbacRecord } from "../../plugins/common/metadata.ts";

export const DEMO_NAMESPACE = "demo";
export const DEMO_TRUST_DOMAIN = "cluster.local";
export const DEMO_SERVICES = ["frontend", "backend", "payments"] as const;
export type DemoServiceName = (typeof DEMO_SERVICES)[number];

export function spiffeIdOf(service: string): string {
  return `spiffe://${DEMO_TRUST_DOMAIN}/ns/${DEMO_NAMESPACE}/sa/${service}`;
}

/** Loopback ports of one sidecar and its app. */
export interface SidecarPorts {
  app: number;
  inbound: number;
  outbound: number;
  /** Frontend only. */
  ingress?: number;
}

/** Files of the sidecar's SVID and trust bundle (written by `obtainSidecarIdentity`). */
export interface SecretFiles {
  certificateChainFile: string;
  privateKeyFile: string;
  trustedCaFile: string;
}

/** Adds `x-weft-authz-policy: <Envoy policy name>` to responses the rbac filter allowed by a policy. */
export const authzPolicyHeaderFilter: HttpFilterFactory<Record<string, never>> = {
  name: "demo-authz-header",
  status: "alpha",
  runtimes: ["node"],
  schema: z.strictObject({}),
  create: () => ({
    name: "demo-authz-header",
    onResponse(stream, response) {
      const rec = stream.metadata.get(RBAC_KEY) as RbacRecord | undefined;
      if (rec === undefined) return;
      const slash = rec.policy?.indexOf("/") ?? -1;
      // Envoy's (and Istio's) name for a policy rule, as in `rbac_access_denied_matched_policy[...]`.
      const name = rec.policy === null ? "none" : `ns[${rec.policy.slice(0, slash)}]-policy[${rec.policy.slice(slash + 1)}]-rule[${rec.rule ?? 0}]`;
      response.headers.set("x-weft-authz-policy", `${rec.decision} ${name}`);
    },
  }),
};

/**
 * The proxy config template of `service`'s sidecar. `peers` are the other services' inbound ports;
 * `secrets` the files of this sidecar's SVID (the mTLS wiring).
 */
export function sidecarTemplate(service: DemoServiceName, ports: SidecarPorts, peers: ReadonlyMap<string, number>, secrets: SecretFiles): string {
  const inboundFilters = [
    { name: "demo-authz-header" },
    {
      name: "rbac",
      config: { namespace: DEMO_NAMESPACE, labels: { app: service }, service, port: ports.inbound, trustDomain: DEMO_TRUST_DOMAIN, policies: [] },
    },
    { name: "router" },
  ];
  const listeners: unknown[] = [
    {
      name: "inbound",
      address: `127.0.0.1:${ports.inbound}`,
      tls: { secret: "svid", mode: "STRICT" },
      http: {
        accessLog: true,
        filters: inboundFilters,
        virtualHosts: [{ name: "local", domains: ["*"], routes: [{ name: `inbound|${service}`, route: { cluster: "local-app" } }] }],
      },
    },
    {
      name: "outbound",
      address: `127.0.0.1:${ports.outbound}`,
      http: {
        accessLog: true,
        virtualHosts: [...peers.keys()].map((peer) => ({
          name: peer,
          domains: [peer, `${peer}.${DEMO_NAMESPACE}`, `${peer}.${DEMO_NAMESPACE}.svc.cluster.local`],
          routes: [{ name: `outbound|${peer}`, route: { cluster: peer } }],
        })),
      },
    },
  ];
  if (ports.ingress !== undefined) {
    listeners.push({
      name: "ingress",
      address: `127.0.0.1:${ports.ingress}`,
      http: { accessLog: true, virtualHosts: [{ name: "ingress", domains: ["*"], routes: [{ name: "ingress", route: { cluster: "local-app" } }] }] },
    });
  }
  const clusters: unknown[] = [{ name: "local-app", endpoints: [`127.0.0.1:${ports.app}`] }];
  for (const [peer, port] of peers) {
    clusters.push({
      name: peer,
      tls: { secret: "svid", expectedIdentities: [spiffeIdOf(peer)], sni: `${peer}.${DEMO_NAMESPACE}.svc.cluster.local` },
      endpoints: [`127.0.0.1:${port}`],
    });
  }
  const doc = {
    listeners,
    clusters,
    secrets: [{
      name: "svid",
      tlsCertificate: { certificateChainFile: secrets.certificateChainFile, privateKeyFile: secrets.privateKeyFile },
      validationContext: { trustedCaFile: secrets.trustedCaFile },
    }],
  };
  return stringify(doc);
}

/** The demo's AuthorizationPolicies, applied through the control plane's admin API. */
export const DEMO_POLICIES = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: backend-allow-frontend, namespace: ${DEMO_NAMESPACE} }
spec:
  selector: { matchLabels: { app: backend } }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${DEMO_TRUST_DOMAIN}/ns/${DEMO_NAMESPACE}/sa/frontend"] } }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: payments-allow-health, namespace: ${DEMO_NAMESPACE} }
spec:
  selector: { matchLabels: { app: payments } }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${DEMO_TRUST_DOMAIN}/ns/${DEMO_NAMESPACE}/sa/frontend"] } }]
      to: [{ operation: { methods: ["GET"], paths: ["/health"] } }]
`;
