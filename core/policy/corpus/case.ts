/**
 * @module core/policy/corpus/case
 * The shape of one Istio authorization test case and small builders for the requests in it. The corpus is an
 * independent oracle for weft's policy engine: every expectation comes from Istio's documentation or, where the
 * documentation is silent, from Istio's source (pilot/pkg/security/authz), never from weft's engine. Cases are
 * plain data (policies as YAML text) so they bundle into Deno and workerd without file reads.
 */
import type { AuthzRequest, EngineOptions } from "../types.ts";

export interface CorpusExpect {
  decision: "allow" | "deny";
  /** `namespace/name` of the deciding policy, or null; omitted = not asserted. */
  policy?: string | null;
  /** Whether an AUDIT policy matched; omitted = not asserted. */
  audit?: boolean;
  /** The CUSTOM provider that had to be asked, or null; omitted = not asserted. */
  custom?: string | null;
}

export interface CorpusRequest {
  name: string;
  request: AuthzRequest;
  expect: CorpusExpect;
  /** What the CUSTOM provider answers for this request (default allow). */
  customDecision?: "allow" | "deny";
  note?: string;
}

export interface CorpusCase {
  name: string;
  /** The Istio document or source file the case comes from. */
  source: string;
  /** Why the expectation is what it is, where the docs are not explicit. */
  note?: string;
  /** Multi-document YAML of AuthorizationPolicies. */
  policies: string;
  options?: EngineOptions;
  /** Istio's validation rejects these policies: compiling them must fail. */
  invalid?: true;
  requests: CorpusRequest[];
}

export const DOCS = "https://istio.io/latest/docs";
export const REF = `${DOCS}/reference/config/security/authorization-policy/`;
export const CONCEPTS = `${DOCS}/concepts/security/#authorization`;
export const ISTIO_SRC = "https://github.com/istio/istio/blob/master/pilot/pkg/security/authz";

/** SPIFFE identity of a workload: `spiffe://<td>/ns/<ns>/sa/<sa>`. */
export function spiffe(ns: string, sa: string, td = "cluster.local"): string {
  return `spiffe://${td}/ns/${ns}/sa/${sa}`;
}

export type Destination = AuthzRequest["destination"];

/** `httpbin` in namespace `foo`, the workload most Istio tasks use. */
export const HTTPBIN: Destination = { namespace: "foo", labels: { app: "httpbin", version: "v1" }, port: 8000, ip: "10.0.0.10" };

export function workload(namespace: string, labels: Record<string, string>, port = 8000): Destination {
  return { namespace, labels, port, ip: "10.0.0.20" };
}

export interface RequestOptions {
  dest?: Destination;
  /** Peer principal (URI SAN); `null` = plaintext. Default: `sleep` in `foo` over mTLS. */
  principal?: string | null;
  ip?: string;
  remoteIp?: string;
  host?: string;
  headers?: Record<string, string | string[]>;
  auth?: AuthzRequest["auth"];
  sni?: string;
  port?: number;
}

function source(o: RequestOptions): AuthzRequest["source"] {
  const src: NonNullable<AuthzRequest["source"]> = { ip: o.ip ?? "10.0.1.5" };
  const principal = o.principal === undefined ? spiffe("foo", "sleep") : o.principal;
  if (principal !== null) src.principal = principal;
  if (o.remoteIp !== undefined) src.remoteIp = o.remoteIp;
  return src;
}

function destination(o: RequestOptions): Destination {
  const dest = { ...(o.dest ?? HTTPBIN) };
  if (o.port !== undefined) dest.port = o.port;
  return dest;
}

/** An HTTP request (path may carry a query string). */
export function http(method: string, path: string, o: RequestOptions = {}): AuthzRequest {
  const req: AuthzRequest = {
    destination: destination(o),
    source: source(o),
    http: { method, path, host: o.host ?? "httpbin.foo:8000", headers: o.headers ?? {} },
  };
  if (o.auth !== undefined) req.auth = o.auth;
  if (o.sni !== undefined) req.sni = o.sni;
  return req;
}

/** A plain TCP connection (no `http`). */
export function tcp(port: number, o: RequestOptions = {}): AuthzRequest {
  const req: AuthzRequest = { destination: { ...destination(o), port }, source: source(o) };
  if (o.sni !== undefined) req.sni = o.sni;
  return req;
}
