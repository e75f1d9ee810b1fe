/**
 * @module core/resources/istio/test-util
 * Test helper: validates every document of a YAML string against the Istio kinds, so tests keep the
 * examples as YAML the way Istio's documentation prints them. Runtime-neutral (the same tests run in
 * Node, Deno and workerd).
 */
import { parseAllDocuments } from "yaml";
import type { Diagnostic } from "../../schema/index.ts";
import { validateResource } from "../kind.ts";
import { istioKinds } from "./index.ts";

/** Diagnostics per document, in document order. */
export function validateDocs(text: string): Diagnostic[][] {
  return parseAllDocuments(text).map((doc) => validateResource(doc.toJS(), istioKinds, { file: "test.yaml" }));
}

/** All diagnostics of all documents. */
export function validateAll(text: string): Diagnostic[] {
  return validateDocs(text).flat();
}

/** Only the errors. */
export function errorsOf(text: string): Diagnostic[] {
  return validateAll(text).filter((d) => d.severity === "error");
}

/** `path: message` lines, handy for readable failures. */
export function lines(diags: Diagnostic[]): string[] {
  return diags.map((d) => `${d.path ?? ""}: ${d.message}`);
}
