/**
 * @module core/resources/istio/gateway
 * Istio's Gateway (networking.istio.io v1, v1beta1, v1alpha3), schema as in
 * `networking/v1/gateway.proto`, with the checks of Istio's ValidateGateway: a DNS-label name, at least
 * one server, `namespace/host` hosts, port names set and unique, known protocols, Unix-socket binds,
 * TLS settings present exactly for HTTPS/TLS ports (an HTTP port may only carry `httpsRedirect`),
 * ISTIO_MUTUAL without certificates, SIMPLE/MUTUAL certificate requirements. `serverTls` is shared
 * with Sidecar ingress listeners.
 *
 * Left out: cipher-suite name validation (Istio only warns) and the Gateway-API-generated semantics.
 */
import { z, type Diagnostic } from "../../schema/index.ts";
import { strict } from "../fields.ts";
import { defineKind } from "../kind.ts";
import { enumOf, o, portOrZero, resource, stringList, stringMap } from "./common.ts";
import {
  createReport, isDns1123Label, isIP, isHttpProtocol, isTlsProtocol, namespacedHostProblems, protocolProblem,
  unixAddressProblem, type Path, type Report,
} from "./rules.ts";

const tlsVersion = enumOf(["TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"]);

/** `ServerTLSSettings`, also used by Sidecar ingress listeners. */
export const serverTls = strict({
  httpsRedirect: o(z.boolean()),
  mode: o(enumOf(["PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"])),
  serverCertificate: o(z.string()),
  privateKey: o(z.string()),
  caCertificates: o(z.string()),
  caCrl: o(z.string()),
  credentialName: o(z.string()),
  credentialNames: o(z.array(z.string()).min(1).max(2)),
  tlsCertificates: o(z.array(strict({ serverCertificate: o(z.string()), privateKey: o(z.string()), caCertificates: o(z.string()) })).min(1).max(2)),
  subjectAltNames: o(stringList),
  verifyCertificateSpki: o(stringList),
  verifyCertificateHash: o(stringList),
  minProtocolVersion: o(tlsVersion),
  maxProtocolVersion: o(tlsVersion),
  cipherSuites: o(stringList),
  caCertCredentialName: o(z.string()),
});
export type ServerTls = z.infer<typeof serverTls>;

/** `Port` of Gateway servers and Sidecar listeners (`targetPort` is deprecated and rejected by checks). */
export const serverPort = strict({ number: portOrZero, protocol: z.string({ error: () => "protocol is required" }), name: z.string({ error: () => "port name is required" }), targetPort: o(portOrZero) });

const server = strict({
  port: serverPort,
  bind: o(z.string()),
  hosts: z.array(z.string(), { error: () => "hosts is required" }),
  tls: o(serverTls),
  defaultEndpoint: o(z.string()),
  name: o(z.string()),
});

export const gatewaySpec = strict({ servers: o(z.array(server)), selector: o(stringMap) });
export const gatewaySchema = resource(gatewaySpec);
export type Gateway = z.infer<typeof gatewaySchema>;

/** Istio's validateTLSOptions. */
export function checkServerTls(r: Report, path: Path, tls: ServerTls | null | undefined): void {
  if (!tls) return;
  const hasCredential = Boolean(tls.credentialName || (tls.credentialNames ?? []).length > 0 || (tls.tlsCertificates ?? []).length > 0);
  if (tls.credentialName && tls.credentialNames) r.error(path, "only one of credentialName or credentialNames can be set");
  if (tls.credentialNames && tls.tlsCertificates) r.error(path, "only one of credentialNames or tlsCertificates can be set");
  if ((tls.minProtocolVersion === "TLSV1_0" || tls.minProtocolVersion === "TLSV1_1") && (tls.cipherSuites ?? []).length === 0) {
    r.warn([...path, "minProtocolVersion"], "TLS versions below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers");
  }
  if (tls.mode === "ISTIO_MUTUAL") {
    for (const key of ["serverCertificate", "privateKey", "caCertificates", "credentialName"] as const) {
      if (tls[key]) r.error([...path, key], `ISTIO_MUTUAL TLS cannot have associated ${key}`);
    }
    return;
  }
  if (tls.mode === "PASSTHROUGH" || tls.mode === "AUTO_PASSTHROUGH") {
    if (tls.caCrl || tls.serverCertificate || tls.privateKey || tls.caCertificates || tls.credentialName) r.warn(path, `${tls.mode} mode does not use certificates, they will be ignored`);
  }
  const mode = tls.mode ?? "PASSTHROUGH";
  if ((mode === "SIMPLE" || mode === "MUTUAL" || mode === "OPTIONAL_MUTUAL") && hasCredential) return;
  if (mode === "SIMPLE" || mode === "MUTUAL" || mode === "OPTIONAL_MUTUAL") {
    const label = mode === "SIMPLE" ? "SIMPLE" : "MUTUAL";
    if (!tls.serverCertificate) r.error([...path, "serverCertificate"], `${label} TLS requires a server certificate (or credentialName)`);
    if (!tls.privateKey) r.error([...path, "privateKey"], `${label} TLS requires a private key (or credentialName)`);
    if (mode !== "SIMPLE" && !tls.caCertificates) r.error([...path, "caCertificates"], "MUTUAL TLS requires a client CA bundle");
  }
  if (tls.caCrl && mode === "SIMPLE") r.error([...path, "caCrl"], "CRL is not supported with SIMPLE TLS");
}

/** Semantic checks for a Gateway (see the module comment). */
export function checkGateway(gw: Gateway): Diagnostic[] {
  const r = createReport();
  if (!isDns1123Label(gw.metadata.name)) r.error(["metadata", "name"], `invalid gateway name: "${gw.metadata.name}" (must be a DNS-1123 label)`);
  const servers = gw.spec.servers ?? [];
  if (servers.length === 0) r.error(["spec", "servers"], "gateway must have at least one server");
  const portNames = new Set<string>();
  servers.forEach((s, i) => {
    const p = ["spec", "servers", i];
    if (s.hosts.length === 0) r.error([...p, "hosts"], "server config must contain at least one host");
    s.hosts.forEach((h, j) => {
      for (const problem of namespacedHostProblems(h, true)) r.error([...p, "hosts", j], problem);
    });
    const bind = s.bind ?? "";
    const unix = bind.startsWith("unix://");
    r.problem([...p, "port", "protocol"], protocolProblem(s.port.protocol));
    if (s.port.number === 0 && !unix) r.error([...p, "port", "number"], "port number 0 is only allowed with a unix:// bind address");
    if (unix && s.port.number !== 0) r.error([...p, "port", "number"], "port number must be 0 for unix domain socket");
    if (unix) r.problem([...p, "bind"], unixAddressProblem(bind.slice("unix://".length)));
    else if (bind !== "" && !isIP(bind)) r.error([...p, "bind"], `${bind} is not a valid IP`);
    if (s.port.targetPort) r.error([...p, "port", "targetPort"], "targetPort has no impact on Gateways");
    if (s.port.name === "") r.error([...p, "port", "name"], "port name must be set");
    if (portNames.has(s.port.name)) r.error([...p, "port", "name"], `port names in servers must be unique: duplicate name ${s.port.name}`);
    portNames.add(s.port.name);
    checkServerTls(r, [...p, "tls"], s.tls);
    const http = isHttpProtocol(s.port.protocol);
    if (!http && s.tls?.httpsRedirect) r.warn([...p, "tls", "httpsRedirect"], "tls.httpsRedirect should only be used with http servers");
    if (isTlsProtocol(s.port.protocol) && !s.tls) r.error([...p, "tls"], "server must have TLS settings for HTTPS/TLS protocols");
    else if (!isTlsProtocol(s.port.protocol) && s.tls) {
      const redirectOnly = s.tls.httpsRedirect && !s.tls.caCertificates && !s.tls.privateKey && !s.tls.serverCertificate && !s.tls.credentialName && (s.tls.mode ?? "PASSTHROUGH") === "PASSTHROUGH";
      if (!http) r.error([...p, "tls"], "server cannot have TLS settings for non HTTPS/TLS ports");
      else if (!redirectOnly) r.error([...p, "tls"], "server cannot have TLS settings for plain text HTTP ports");
    }
  });
  return r.diagnostics;
}

export const gatewayKind = defineKind({
  group: "networking.istio.io",
  versions: ["v1", "v1beta1", "v1alpha3"],
  kind: "Gateway",
  schema: gatewaySchema,
  check: checkGateway,
});
