/**
 * @module edge/config/edge-config
 * The config document the edge hosts run: a version and a weft proxy config file (text, validated by
 * the engine's loader with the plugin registry, exactly as the Node host validates its file). The
 * control plane's config feed serves this document as JSON; a host may also read it from a file.
 */
import { formatDiagnostic, z, zodIssuesToDiagnostics, type Diagnostic } from "../../core/schema/index.ts";
import { loadProxyConfig } from "../../proxy/config/load.ts";
import type { ProxyConfig } from "../../proxy/config/types.ts";
import { createFilterCatalog, type HttpFilterFactory } from "../../proxy/filter.ts";

export const edgeDocumentSchema = z.strictObject({
  /** Changes whenever the content changes. */
  version: z.string().min(1),
  /** The proxy config file's text (YAML or JSON). */
  proxy: z.string().min(1),
});

export type EdgeDocument = z.infer<typeof edgeDocumentSchema>;

export type EdgeConfigResult = { ok: true; config: ProxyConfig; version: string } | { ok: false; diagnostics: Diagnostic[] };

/**
 * Validates an edge document (already parsed JSON) into a proxy config.
 * @example
 * const r = loadEdgeDocument(await res.json(), "control-plane", httpFilters);
 * if (r.ok) proxy.apply(r.config);
 */
export function loadEdgeDocument(raw: unknown, source: string, filters: ReadonlyMap<string, HttpFilterFactory<unknown>>): EdgeConfigResult {
  const doc = edgeDocumentSchema.safeParse(raw);
  if (!doc.success) return { ok: false, diagnostics: zodIssuesToDiagnostics(doc.error.issues, { file: source }) };
  const r = loadProxyConfig(doc.data.proxy, `${source}#proxy`, createFilterCatalog(filters));
  if (!r.ok) return { ok: false, diagnostics: r.diagnostics };
  const config: ProxyConfig = { ...r.config, version: doc.data.version };
  return { ok: true, config, version: doc.data.version };
}

/** A one-line summary of diagnostics for logs and error bodies. */
export function describeDiagnostics(ds: readonly Diagnostic[]): string {
  return ds.map(formatDiagnostic).join("\n");
}
