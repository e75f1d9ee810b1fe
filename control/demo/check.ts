/**
 * @module control/demo/check
 * `weft demo --check`: drives scripted traffic through the running demo mesh — through the frontend's
 * ingress (frontend calls backend and payments via its sidecar's outbound listener), from payments'
 * sidecar straight to backend, plaintext at a STRICT mTLS port, and a policy applied and removed
 * through the admin API — and checks each outcome: status, deciding policy (from the callee sidecar's
 * `x-weft-authz-policy` and access log) and the peer SPIFFE ID the callee's sidecar saw over mTLS.
 */
import { request } from "node:http";
import { callThroughSidecar, type CallResult } from "./services.ts";
import type { AccessLogEntry, DemoMesh } from "./mesh.ts";
import { DEMO_NAMESPACE, DEMO_TRUST_DOMAIN, spiffeIdOf, type DemoServiceName } from "./sidecar-config.ts";

export interface CheckOutcome {
  name: string;
  ok: boolean;
  /** One line of what was seen. */
  seen: string;
  /** Why it failed, when it did. */
  problem?: string;
}

interface Expectation {
  name: string;
  from: DemoServiceName;
  to: DemoServiceName;
  method: string;
  path: string;
  status: number;
  /** Envoy policy name: `ns[demo]-policy[NAME]-rule[0]`, or `none` for the default deny. */
  policy: string;
}

const policyName = (name: string) => `ns[${DEMO_NAMESPACE}]-policy[${name}]-rule[0]`;

/** Plain HTTP through the frontend's ingress; the frontend answers with the callee's status and what it saw. */
function viaIngress(mesh: DemoMesh, method: string, path: string): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const req = request(`${mesh.ingressUrl}${path}`, { method, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        try {
          resolve(JSON.parse(text) as CallResult);
        } catch {
          reject(new Error(`the ingress answered ${res.statusCode} with non-JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("timed out")));
    req.end();
  });
}

function lastInbound(mesh: DemoMesh, service: DemoServiceName, method: string, path: string): AccessLogEntry | undefined {
  return mesh.sidecars.get(service)!.accessLog.findLast((e) => e.listener === "inbound" && e.method === method && e.path === path);
}

async function call(mesh: DemoMesh, x: Expectation): Promise<CheckOutcome> {
  const callPath = x.path;
  let result: CallResult;
  try {
    result = x.from === "frontend"
      ? await viaIngress(mesh, x.method, `/call/${x.to}${callPath}`)
      : await callThroughSidecar(mesh.sidecars.get(x.from)!.ports.outbound, x.to, x.method, callPath);
  } catch (err) {
    return { name: x.name, ok: false, seen: "no answer", problem: (err as Error).message };
  }
  const entry = lastInbound(mesh, x.to, x.method, callPath);
  const details = typeof entry?.response_code_details === "string" ? entry.response_code_details : "";
  const denied = /^rbac_access_denied_matched_policy\[(.*)\]$/.exec(details);
  const headerPolicy = result.authzPolicy?.replace(/^(allow|deny) /, "");
  const deciding = denied ? denied[1]! : (headerPolicy ?? "(not reported)");
  const peer = typeof entry?.downstream_peer_uri_san === "string" ? entry.downstream_peer_uri_san : "(none)";
  const seen = `${x.method.padEnd(4)} ${x.from} -> ${x.to} ${callPath}: ${result.status} ${denied ? "denied" : "allowed"} by ${deciding}; ${x.to}'s sidecar saw peer ${peer}`;
  const problems: string[] = [];
  if (result.status !== x.status) problems.push(`expected status ${x.status}, got ${result.status}`);
  if (deciding !== x.policy) problems.push(`expected the deciding policy ${x.policy}, got ${deciding}`);
  if (entry === undefined) problems.push(`${x.to}'s sidecar logged no inbound ${x.method} ${callPath}`);
  else if (peer !== spiffeIdOf(x.from)) problems.push(`${x.to}'s sidecar should have seen ${spiffeIdOf(x.from)} over mTLS, saw ${peer}`);
  return { name: x.name, ok: problems.length === 0, seen, ...(problems.length ? { problem: problems.join("; ") } : {}) };
}

/** A plaintext request at a STRICT mTLS inbound port must not get through. */
async function plaintextRefused(mesh: DemoMesh, service: DemoServiceName): Promise<CheckOutcome> {
  const port = mesh.sidecars.get(service)!.ports.inbound;
  const before = mesh.sidecars.get(service)!.accessLog.length;
  const name = `plaintext to ${service}'s sidecar is refused (STRICT mTLS)`;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/items`, { signal: AbortSignal.timeout(5000) });
    return { name, ok: false, seen: `plaintext got HTTP ${res.status}`, problem: "a plaintext request was answered" };
  } catch (err) {
    const logged = mesh.sidecars.get(service)!.accessLog.length - before;
    const cause = ((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message).slice(0, 80);
    return { name, ok: logged === 0, seen: `plaintext http://127.0.0.1:${port}/items: connection refused by TLS (${cause})`, ...(logged ? { problem: "the sidecar logged the request" } : {}) };
  }
}

/** One admin API call (a YAML body for applies, none for deletes). */
function admin(mesh: DemoMesh, method: string, path: string, body = ""): Promise<void> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${mesh.adminToken}` };
    if (body) {
      headers["content-type"] = "application/yaml";
      headers["content-length"] = Buffer.byteLength(body);
    }
    const req = request(`${mesh.adminUrl}${path}`, { method, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`${method} ${path} answered ${status}: ${text.slice(0, 300)}`));
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

export const CHARGE_POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: payments-allow-charge, namespace: ${DEMO_NAMESPACE} }
spec:
  selector: { matchLabels: { app: payments } }
  action: ALLOW
  rules:
    - from: [{ source: { principals: ["${DEMO_TRUST_DOMAIN}/ns/${DEMO_NAMESPACE}/sa/frontend"] } }]
      to: [{ operation: { methods: ["POST"], paths: ["/charge"] } }]
`;

/** Runs every scripted step in order; `report` gets each outcome as it is known. */
export async function runDemoCheck(mesh: DemoMesh, report: (o: CheckOutcome) => void): Promise<CheckOutcome[]> {
  const out: CheckOutcome[] = [];
  const note = (o: CheckOutcome) => {
    out.push(o);
    report(o);
  };
  const steps: Expectation[] = [
    { name: "frontend -> backend is allowed", from: "frontend", to: "backend", method: "GET", path: "/items", status: 200, policy: policyName("backend-allow-frontend") },
    { name: "frontend -> payments GET /health is allowed", from: "frontend", to: "payments", method: "GET", path: "/health", status: 200, policy: policyName("payments-allow-health") },
    { name: "frontend -> payments POST /charge is denied", from: "frontend", to: "payments", method: "POST", path: "/charge", status: 403, policy: "none" },
    { name: "frontend -> payments GET /refunds is denied", from: "frontend", to: "payments", method: "GET", path: "/refunds", status: 403, policy: "none" },
    { name: "payments -> backend is denied (backend admits only frontend)", from: "payments", to: "backend", method: "GET", path: "/items", status: 403, policy: "none" },
  ];
  for (const s of steps) note(await call(mesh, s));
  note(await plaintextRefused(mesh, "backend"));

  // A policy change through the control plane reaches the payments sidecar, and its removal too.
  const charge: Expectation = { name: "after applying payments-allow-charge, POST /charge is allowed", from: "frontend", to: "payments", method: "POST", path: "/charge", status: 200, policy: policyName("payments-allow-charge") };
  try {
    await admin(mesh, "POST", "/v1/resources?file=payments-allow-charge.yaml", CHARGE_POLICY);
    await mesh.refresh();
    note(await call(mesh, charge));
    await admin(mesh, "DELETE", `/v1/resources/AuthorizationPolicy/${DEMO_NAMESPACE}/payments-allow-charge`);
    await mesh.refresh();
    note(await call(mesh, { ...charge, name: "after deleting it, POST /charge is denied again", status: 403, policy: "none" }));
  } catch (err) {
    note({ name: "policy change through the admin API", ok: false, seen: "admin API call failed", problem: (err as Error).message });
  }
  return out;
}
