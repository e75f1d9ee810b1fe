/**
 * @module core/policy/corpus/corpus.test
 * Runs every corpus case through the policy engine's public API (`authorizerFromYaml` + `check`) and asserts
 * the decision, and the deciding policy, audit flag and CUSTOM provider where a case states them.
 */
import { describe, expect, it } from "vitest";
import { authorizerFromYaml } from "../index.ts";
import { corpus } from "./index.ts";

describe("Istio authorization corpus", () => {
  it("holds at least 120 requests, each with a unique title", () => {
    const titles = corpus.flatMap((t) => t.cases.flatMap((c) => c.requests.map((r) => `${c.name} / ${r.name}`)));
    expect(titles.length >= 120).toBe(true);
    expect(new Set(titles).size).toBe(titles.length);
  });

  for (const { topic, cases } of corpus) {
    describe(topic, () => {
      for (const c of cases) {
        describe(c.name, () => {
          if (c.invalid) {
            it("is rejected", () => {
              expect(() => authorizerFromYaml(c.policies, c.options)).toThrow();
            });
          }
          for (const r of c.requests) {
            it(r.name, () => {
              const authz = authorizerFromYaml(c.policies, c.options);
              const d = authz.check(r.request, r.customDecision ? { customDecision: r.customDecision } : undefined);
              expect(d.decision).toBe(r.expect.decision);
              if (r.expect.policy !== undefined) expect(d.policy).toBe(r.expect.policy);
              if (r.expect.audit !== undefined) expect(d.audit).toBe(r.expect.audit);
              if (r.expect.custom !== undefined) expect(d.custom).toBe(r.expect.custom);
            });
          }
        });
      }
    });
  }
});
