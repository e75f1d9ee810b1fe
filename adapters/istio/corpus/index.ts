/**
 * @module adapters/istio/corpus
 * Every corpus case, for the unit round-trip test and the real-istioctl interop test alike.
 */
import type { CorpusCase } from "./case.ts";
import { networkingCorpus } from "./networking.ts";
import { registryCorpus } from "./registry.ts";
import { securityCorpus } from "./security.ts";
import { telemetryCorpus } from "./telemetry.ts";

export type { CorpusCase } from "./case.ts";

export const istioCorpus: CorpusCase[] = [...networkingCorpus, ...registryCorpus, ...securityCorpus, ...telemetryCorpus];
