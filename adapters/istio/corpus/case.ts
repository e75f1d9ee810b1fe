/**
 * @module adapters/istio/corpus/case
 * One corpus case: Istio YAML (one or more documents) from Istio's documentation, where it comes from,
 * and the loss fields it is expected to report (absent = none: the case is in the supported set).
 */
export interface CorpusCase {
  name: string;
  /** The documentation page (and sample file) the YAML is taken from. */
  source: string;
  yaml: string;
  /** `field` of each expected loss, in order; absent = the case converts without loss. */
  losses?: string[];
}
