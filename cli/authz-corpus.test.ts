/**
 * `weft authz check` answers every case of the Istio corpus (core/policy/corpus) as Istio does: each
 * case's policies and requests go through the CLI command itself (files, options, JSON output), run
 * in-process with an in-memory io so the whole corpus stays fast.
 */
import { describe, expect, it } from "vitest";
import { corpus } from "../core/policy/corpus/index.ts";
import { run } from "./commands/authz.ts";
import type { CliIo } from "./io.ts";

function memoryIo(files: Record<string, string>): CliIo & { out: string; err: string } {
  const io = {
    argv: [], out: "", err: "",
    stdout(t: string) { io.out += t; },
    stderr(t: string) { io.err += t; },
    readFile: async (p: string) => {
      if (!(p in files)) throw new Error(`ENOENT: ${p}`);
      return files[p]!;
    },
    exit() {},
    isMain: () => false,
    env: () => undefined,
  };
  return io;
}

function optionArgs(o: { rootNamespace?: string; trustDomain?: string; trustDomainAliases?: string[]; pathNormalization?: string } = {}): string[] {
  const args: string[] = [];
  if (o.rootNamespace) args.push("--root-namespace", o.rootNamespace);
  if (o.trustDomain) args.push("--trust-domain", o.trustDomain);
  for (const a of o.trustDomainAliases ?? []) args.push("--trust-domain-alias", a);
  if (o.pathNormalization) args.push("--path-normalization", o.pathNormalization);
  return args;
}

describe("weft authz check over the Istio corpus", () => {
  for (const { topic, cases } of corpus) {
    describe(topic, () => {
      for (const c of cases) {
        if (c.invalid) {
          it(`${c.name}: rejected with exit 1`, async () => {
            const io = memoryIo({ "p.yaml": c.policies, "r.json": JSON.stringify({ destination: { namespace: "foo" } }) });
            expect(await run(["check", "-f", "p.yaml", "--request", "r.json", ...optionArgs(c.options)], io)).toBe(1);
            expect(io.err).toMatch(/error:/);
          });
          continue;
        }
        for (const r of c.requests) {
          it(`${c.name} — ${r.name}`, async () => {
            const io = memoryIo({ "p.yaml": c.policies, "r.json": JSON.stringify(r.request) });
            const args = ["check", "-f", "p.yaml", "--request", "r.json", ...optionArgs(c.options)];
            if (r.customDecision === "deny") args.push("--custom-deny");
            expect(await run(args, io)).toBe(0);
            const out = JSON.parse(io.out);
            expect(out.decision).toBe(r.expect.decision);
            if (r.expect.policy !== undefined) expect(out.policy).toBe(r.expect.policy);
            if (r.expect.audit !== undefined) expect(out.audit).toBe(r.expect.audit);
            if (r.expect.custom !== undefined) expect(out.custom).toBe(r.expect.custom);
          });
        }
      }
    });
  }
});
