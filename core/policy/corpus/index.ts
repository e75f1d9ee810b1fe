/**
 * @module core/policy/corpus
 * The Istio authorization corpus: every case, grouped by topic. Plain data with YAML strings so the same cases
 * run under vitest, Deno and workerd (no file reads).
 */
import type { CorpusCase } from "./case.ts";
import { conditionCases } from "./conditions.ts";
import { customAuditCases } from "./custom-audit.ts";
import { edgeCases } from "./edge-cases.ts";
import { evaluationOrderCases } from "./evaluation-order.ts";
import { normalizationCases } from "./normalization.ts";
import { operationCases } from "./operations.ts";
import { requestPrincipalCases } from "./request-principals.ts";
import { selectionCases } from "./selection.ts";
import { sourceCases } from "./sources.ts";
import { tcpCases } from "./tcp.ts";
import { trustDomainCases } from "./trust-domain.ts";
import { validationCases } from "./validation.ts";

export type { CorpusCase, CorpusExpect, CorpusRequest } from "./case.ts";

export const corpus: { topic: string; cases: CorpusCase[] }[] = [
  { topic: "evaluation order", cases: evaluationOrderCases },
  { topic: "custom, audit and dry-run", cases: customAuditCases },
  { topic: "workload selection", cases: selectionCases },
  { topic: "sources", cases: sourceCases },
  { topic: "request principals", cases: requestPrincipalCases },
  { topic: "operations", cases: operationCases },
  { topic: "conditions", cases: conditionCases },
  { topic: "tcp", cases: tcpCases },
  { topic: "trust domains", cases: trustDomainCases },
  { topic: "path normalization", cases: normalizationCases },
  { topic: "edge cases", cases: edgeCases },
  { topic: "validation", cases: validationCases },
];
