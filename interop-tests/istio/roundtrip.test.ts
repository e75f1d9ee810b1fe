// Istio → IR → Istio against the real istioctl. For every case of the corpus of Istio's documented examples
// (adapters/istio/corpus), weft converts the YAML to its IR and back, writes what it emitted to a file, and the
// real `istioctl validate -f` must accept it and `istioctl analyze --use-kube=false -o json` must report no
// errors. Examples that reference a Gateway or DestinationRule subset they do not define get a generated
// context file (the referenced Gateway, a DestinationRule with the referenced subsets), the same for the
// original and the emitted YAML. Warnings are allowed only when listed below with a reason, and only when
// istioctl gives the same warning for the original example: weft must not add any.

import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { istioCorpus } from "../../adapters/istio/corpus/index.ts";
import { roundTripYaml } from "../../adapters/istio/roundtrip.ts";
import istio, { istioctlBin } from "../peers/istio/peer.ts";
import { tmpDataDir } from "../peers/lib.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, istio);

type Obj = Record<string, any>; // YAML objects

interface AnalyzerMessage {
  code: string;
  level: string;
  message: string;
  origin: string;
}

/** Warnings the documentation examples themselves draw; weft keeps the examples as written. */
const ALLOWED_WARNINGS: { code: string; text: string; reason: string }[] = [
  { code: "IST0128", text: "no caCertificates", reason: "the DestinationRule reference example originates TLS without CA certificates (SIMPLE)" },
  { code: "IST0129", text: "no caCertificates", reason: "reference and egress-TLS-origination examples originate TLS without CA certificates" },
  { code: "IST0130", text: "not used", reason: "the Bookinfo fault-injection sample's first rule has no match, so its second rule is unreachable" },
  { code: "IST0133", text: "deny all traffic to TCP ports", reason: "DENY examples with only HTTP attributes (reference, dry-run and authentication task)" },
  { code: "IST0133", text: "address is unset with network", reason: "the WorkloadEntry reference example for a remote network has no address" },
];

function run(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(istioctlBin, args, { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function analyze(files: string[]): AnalyzerMessage[] {
  const { out } = run(["analyze", "--use-kube=false", "--all-namespaces", ...files, "-o", "json"]);
  const start = out.indexOf("[");
  if (start < 0) throw new Error(`istioctl analyze printed no JSON:\n${out}`);
  return JSON.parse(out.slice(start, out.lastIndexOf("]") + 1)) as AnalyzerMessage[];
}

/** `istioctl validate` warnings as `Kind/name: message` lines (the namespace left out: the original may not name one). */
function validateWarnings(out: string): string[] {
  return out.split("\n").filter((l) => l.trim().startsWith("* ")).map((l) => l.trim().slice(2).replace(/^(\w+)\/(?:[^/:]*\/)?([^/:]+):/, "$1/$2:"));
}

const shortHostNs = (host: string, ns: string) => (host.includes(".") || host === "*" ? host : `${host}.${ns}.svc.cluster.local`);

/** Gateways and DestinationRule subsets the case refers to but does not define. */
function contextFor(objects: Obj[]): Obj[] {
  const gateways = new Set<string>();
  const subsets = new Map<string, Set<string>>();
  const ruleHosts = new Set(objects.filter((o) => o.kind === "DestinationRule").map((o) => shortHostNs(o.spec.host, o.metadata.namespace ?? "default")));
  const definedGateways = new Set(objects.filter((o) => o.kind === "Gateway").map((o) => `${o.metadata.namespace ?? "default"}/${o.metadata.name}`));
  for (const vs of objects.filter((o) => o.kind === "VirtualService")) {
    const ns = vs.metadata.namespace ?? "default";
    const refs: string[] = [...(vs.spec.gateways ?? []), ...(vs.spec.http ?? []).flatMap((r: Obj) => (r.match ?? []).flatMap((m: Obj) => m.gateways ?? []))];
    for (const g of refs) if (g !== "mesh") gateways.add(g.includes("/") ? g : `${ns}/${g}`);
    const dests: Obj[] = [
      ...(vs.spec.http ?? []).flatMap((r: Obj) => [...(r.route ?? []).map((d: Obj) => d.destination), r.mirror, ...(r.mirrors ?? []).map((m: Obj) => m.destination)]),
      ...[...(vs.spec.tcp ?? []), ...(vs.spec.tls ?? [])].flatMap((r: Obj) => (r.route ?? []).map((d: Obj) => d.destination)),
    ].filter(Boolean);
    for (const d of dests) {
      const host = shortHostNs(d.host, ns);
      if (!d.subset || ruleHosts.has(host)) continue;
      subsets.set(host, (subsets.get(host) ?? new Set()).add(d.subset));
    }
  }
  const context: Obj[] = [];
  for (const g of gateways) {
    if (definedGateways.has(g)) continue;
    const [namespace, name] = g.split("/");
    context.push({
      apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name, namespace },
      spec: { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }] },
    });
  }
  let i = 0;
  for (const [host, names] of subsets) {
    context.push({
      apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: `context-${i++}`, namespace: "default" },
      spec: { host, subsets: [...names].map((n) => ({ name: n, labels: { version: n } })) },
    });
  }
  return context;
}

/** `Kind ns/name`; istioctl leaves out the namespace of objects that do not name one (weft's output always does). */
const origin = (m: AnalyzerMessage) => (/^\S+ [^/\s]+$/.test(m.origin) ? m.origin.replace(" ", " default/") : m.origin);

const toYaml = (objects: Obj[]) => objects.map((o) => stringify(o)).join("---\n");
const supported = istioCorpus.filter((c) => !c.losses);

describe.skipIf(!ready)("istio round trip: weft's emitted YAML against the real istioctl", () => {
  const work = ready ? tmpDataDir("istio-roundtrip") : "";

  it("the corpus holds every converted kind", () => {
    expect(supported.length).toBeGreaterThan(90);
  });

  it.each(supported.map((c, i) => [c.name, c, i] as const))("%s", (_name, c, i) => {
    const rt = roundTripYaml(c.yaml);
    expect(rt.losses).toEqual([]);
    const emittedFile = join(work, `case-${i}-emitted.yaml`);
    const originalFile = join(work, `case-${i}-original.yaml`);
    const contextFile = join(work, `case-${i}-context.yaml`);
    writeFileSync(emittedFile, toYaml(rt.emitted));
    writeFileSync(originalFile, c.yaml);
    const context = contextFor(rt.originals as Obj[]);
    writeFileSync(contextFile, toYaml(context));

    const emittedValidate = run(["validate", "-f", emittedFile]);
    expect(emittedValidate.out).toMatch(new RegExp(`"${emittedFile}" (is valid|has warnings)`));
    expect(emittedValidate.status).toBe(0);
    const originalWarnings = validateWarnings(run(["validate", "-f", originalFile]).out);
    for (const w of validateWarnings(emittedValidate.out)) expect(originalWarnings, `validate warning weft added: ${w}`).toContain(w);

    const withContext = (f: string) => (context.length ? [f, contextFile] : [f]);
    const emitted = analyze(withContext(emittedFile));
    expect(emitted.filter((m) => m.level === "Error")).toEqual([]);
    const original = analyze(withContext(originalFile));
    for (const m of emitted) {
      const allowed = ALLOWED_WARNINGS.find((a) => a.code === m.code && m.message.includes(a.text));
      expect(allowed, `unlisted ${m.level} ${m.code} on ${m.origin}: ${m.message}`).toBeDefined();
      expect(original.map((o) => `${o.code} ${origin(o)}`), `weft added ${m.code} on ${m.origin}`).toContain(`${m.code} ${origin(m)}`);
    }
  });
});
