/**
 * @module core/resources/istio/sidecar
 * Istio's Sidecar (networking.istio.io v1, v1beta1, v1alpha3), schema as in
 * `networking/v1/sidecar.proto`, with the checks of Istio's ValidateSidecar: something configured,
 * ingress listeners with a valid port, unique ports, a well-formed defaultEndpoint and the TLS modes
 * a sidecar can terminate; egress listeners with `namespace/host` hosts, at most one port-less catch-all
 * listener and only as the last one, Unix-socket binds for port 0, the capture mode those allow;
 * outboundTrafficPolicy.egressProxy only with ALLOW_ANY; connection pools; workload selector labels.
 *
 * Left out: the duplicate-egress-host warnings.
 */
import { z, type Diagnostic } from "../../schema/index.ts";
import { strict } from "../fields.ts";
import { defineKind } from "../kind.ts";
import { destination, enumOf, networkingWorkloadSelector, o, portOrZero, resource } from "./common.ts";
import { checkConnectionPool, connectionPool } from "./destination-rule.ts";
import { checkServerTls, serverTls } from "./gateway.ts";
import {
  checkSelectorLabels, createReport, fqdnProblem, isDns1123Label, isHttpProtocol, isIP, namespacedHostProblems, protocolProblem, unixAddressProblem,
} from "./rules.ts";

const captureMode = enumOf(["DEFAULT", "IPTABLES", "NONE"]);
const sidecarPort = strict({ number: o(portOrZero), protocol: o(z.string()), name: o(z.string()), targetPort: o(portOrZero) });

const ingressListener = strict({
  port: sidecarPort,
  bind: o(z.string()),
  captureMode: o(captureMode),
  defaultEndpoint: o(z.string()),
  tls: o(serverTls),
  connectionPool: o(connectionPool),
});

const egressListener = strict({
  port: o(sidecarPort),
  bind: o(z.string()),
  captureMode: o(captureMode),
  hosts: z.array(z.string(), { error: () => "hosts is required (namespace/dnsName entries)" }),
});

export const sidecarSpec = strict({
  workloadSelector: o(networkingWorkloadSelector),
  ingress: o(z.array(ingressListener)),
  egress: o(z.array(egressListener)),
  inboundConnectionPool: o(connectionPool),
  outboundTrafficPolicy: o(strict({ mode: o(enumOf(["REGISTRY_ONLY", "ALLOW_ANY"])), egressProxy: o(destination) })),
});

export const sidecarSchema = resource(sidecarSpec);
export type Sidecar = z.infer<typeof sidecarSchema>;

/** Semantic checks for a Sidecar (see the module comment). */
export function checkSidecar(sc: Sidecar): Diagnostic[] {
  const r = createReport();
  const spec = sc.spec;
  if (spec.workloadSelector) checkSelectorLabels(r, ["spec", "workloadSelector", "labels"], spec.workloadSelector.labels);
  const ingress = spec.ingress ?? [];
  const egress = spec.egress ?? [];
  if (ingress.length === 0 && egress.length === 0 && !spec.outboundTrafficPolicy && !spec.inboundConnectionPool) {
    r.error(["spec"], "sidecar: empty configuration provided");
    return r.diagnostics;
  }

  const ingressPorts = new Set<number>();
  ingress.forEach((l, i) => {
    const p = ["spec", "ingress", i];
    const number = l.port.number ?? 0;
    if (l.port.name && !isDns1123Label(l.port.name)) r.error([...p, "port", "name"], `invalid port name: ${l.port.name}`);
    r.problem([...p, "port", "protocol"], protocolProblem(l.port.protocol));
    if (number < 1) r.error([...p, "port", "number"], `port number ${number} must be in the range 1..65535`);
    if (l.port.targetPort) r.error([...p, "port", "targetPort"], "targetPort has no impact on Sidecars");
    if (l.bind && !isIP(l.bind)) r.error([...p, "bind"], `${l.bind} is not a valid IP`);
    if (ingressPorts.has(number)) r.error([...p, "port", "number"], "sidecar: ports on IP bound listeners must be unique");
    ingressPorts.add(number);
    const ep = l.defaultEndpoint;
    if (ep) {
      if (ep.startsWith("unix://")) r.problem([...p, "defaultEndpoint"], unixAddressProblem(ep.slice("unix://".length)));
      else {
        const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]+)$/.exec(ep);
        const host = m ? (m[1] ?? m[2] ?? "") : undefined;
        const portNum = m ? Number(m[3]) : NaN;
        if (host === undefined || !["", "127.0.0.1", "0.0.0.0", "::1", "::"].includes(host) || !(portNum >= 1 && portNum <= 65535)) {
          r.error([...p, "defaultEndpoint"], "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port>, unix://filepath or unset");
        }
      }
    }
    if (l.tls) {
      const tp = [...p, "tls"];
      if ((l.tls.subjectAltNames ?? []).length > 0) r.error([...tp, "subjectAltNames"], "sidecar: subjectAltNames is not supported in ingress tls");
      if (l.tls.httpsRedirect) r.error([...tp, "httpsRedirect"], "sidecar: httpsRedirect is not supported");
      if (l.tls.credentialName) r.error([...tp, "credentialName"], "sidecar: credentialName is not currently supported");
      if (l.tls.mode === "ISTIO_MUTUAL" || l.tls.mode === "AUTO_PASSTHROUGH") r.error([...tp, "mode"], `configuration is invalid: cannot set mode to ${l.tls.mode} in sidecar ingress tls`);
      checkServerTls(r, tp, l.tls);
    }
    checkConnectionPool(r, [...p, "connectionPool"], l.connectionPool);
    if (l.connectionPool?.http && !isHttpProtocol(l.port.protocol)) {
      r.warn([...p, "connectionPool", "http"], `sidecar: HTTP connection pool settings are configured for port ${number} but its protocol is not HTTP (${l.port.protocol ?? "unset"}); only TCP settings will apply`);
    }
  });
  checkConnectionPool(r, ["spec", "inboundConnectionPool"], spec.inboundConnectionPool);

  const egressPorts = new Set<number>();
  const sockets = new Set<string>();
  let catchAll = false;
  egress.forEach((l, i) => {
    const p = ["spec", "egress", i];
    if (!l.port) {
      if (catchAll) r.error(p, "sidecar: egress can have only one listener with empty port");
      else if (i !== egress.length - 1) r.error(p, "sidecar: the egress listener with empty port should be the last listener in the list");
      catchAll = true;
    } else {
      const number = l.port.number ?? 0;
      const bind = l.bind ?? "";
      if (l.port.name && !isDns1123Label(l.port.name)) r.error([...p, "port", "name"], `invalid port name: ${l.port.name}`);
      r.problem([...p, "port", "protocol"], protocolProblem(l.port.protocol));
      if (l.port.targetPort) r.error([...p, "port", "targetPort"], "targetPort has no impact on Sidecars");
      if (number === 0) {
        if (!bind.startsWith("unix://")) r.error([...p, "bind"], "sidecar: ports with 0 value must have a unix domain socket bind address");
        else r.problem([...p, "bind"], unixAddressProblem(bind.slice("unix://".length)));
        if (l.captureMode && l.captureMode !== "DEFAULT" && l.captureMode !== "NONE") r.error([...p, "captureMode"], "sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners");
        if (sockets.has(bind)) r.error([...p, "bind"], "sidecar: unix domain socket values for listeners must be unique");
        sockets.add(bind);
      } else {
        if (bind && !isIP(bind)) r.error([...p, "bind"], `${bind} is not a valid IP`);
        if (egressPorts.has(number)) r.error([...p, "port", "number"], "sidecar: ports on IP bound listeners must be unique");
        egressPorts.add(number);
      }
    }
    if (l.hosts.length === 0) r.error([...p, "hosts"], "sidecar: egress listener must contain at least one host");
    l.hosts.forEach((h, j) => {
      for (const problem of namespacedHostProblems(h, false)) r.error([...p, "hosts", j], problem);
    });
  });

  const otp = spec.outboundTrafficPolicy;
  if (otp?.egressProxy) {
    const p = ["spec", "outboundTrafficPolicy", "egressProxy"];
    if ((otp.mode ?? "REGISTRY_ONLY") !== "ALLOW_ANY") r.error(p, "sidecar: egressProxy must be set only with ALLOW_ANY outboundTrafficPolicy mode");
    else {
      r.problem([...p, "host"], fqdnProblem(otp.egressProxy.host));
      if (!otp.egressProxy.port) r.error([...p, "port"], "sidecar: egressProxy port must be set");
    }
  }
  return r.diagnostics;
}

export const sidecarKind = defineKind({
  group: "networking.istio.io",
  versions: ["v1", "v1beta1", "v1alpha3"],
  kind: "Sidecar",
  schema: sidecarSchema,
  check: checkSidecar,
});
