/**
 * @module core/yaml/loader
 * Multi-document YAML loading (JSON is YAML, so JSON files load here too) whose errors point at file:line. Each document keeps its
 * syntax tree so a validator can turn a field path (`spec.rules[0].to[0]`) back into a line and column.
 * Limits protect a running control plane from hostile input: a size cap, an alias-expansion cap
 * (billion laughs), and a document-count cap.
 */
import { LineCounter, parseAllDocuments, isNode, type Document } from "yaml";
import type { Diagnostic, SourceLocation } from "../schema/index.ts";

export interface LoadOptions {
  /** File name used in diagnostics. */
  file?: string;
  /** Reject input larger than this many bytes (default 8 MiB). */
  maxBytes?: number;
  /** Reject more documents than this (default 10,000). */
  maxDocuments?: number;
}

/** One non-empty YAML document. */
export interface LoadedDocument {
  /** 0-based index of the document in the file. */
  index: number;
  value: unknown;
  /** Location of the document's start. */
  location: SourceLocation;
  /** Location of the node at `path` (or of its nearest existing ancestor). */
  locate(path: ReadonlyArray<PropertyKey>): SourceLocation;
}

export interface LoadResult {
  documents: LoadedDocument[];
  diagnostics: Diagnostic[];
}

const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Parses every document in `text`. Syntax errors become diagnostics (the broken document is skipped,
 * the others are still returned); nothing throws for bad input.
 * @example
 * const { documents, diagnostics } = loadYaml(text, { file: "policy.yaml" });
 */
export function loadYaml(text: string, options: LoadOptions = {}): LoadResult {
  const file = options.file;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const diagnostics: Diagnostic[] = [];
  const size = new TextEncoder().encode(text).length;
  if (size > maxBytes) {
    return { documents: [], diagnostics: [{ severity: "error", file, message: `file is ${size} bytes; the limit is ${maxBytes}` }] };
  }
  const lineCounter = new LineCounter();
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true }) as Document.Parsed[];
  } catch (err) {
    return { documents: [], diagnostics: [{ severity: "error", file, message: `cannot parse YAML: ${(err as Error).message}` }] };
  }
  if (!Array.isArray(docs)) docs = [docs as unknown as Document.Parsed];
  const maxDocs = options.maxDocuments ?? 10_000;
  if (docs.length > maxDocs) {
    return { documents: [], diagnostics: [{ severity: "error", file, message: `${docs.length} documents; the limit is ${maxDocs}` }] };
  }
  const pos = (offset: number): SourceLocation => {
    const lc = lineCounter.linePos(offset);
    return { file, line: lc.line, column: lc.col };
  };
  const documents: LoadedDocument[] = [];
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const at = pos(e.pos[0]);
        diagnostics.push({ severity: "error", ...at, message: `YAML syntax: ${firstLine(e.message)}` });
      }
      return;
    }
    for (const w of doc.warnings) {
      diagnostics.push({ severity: "warning", ...pos(w.pos[0]), message: `YAML: ${firstLine(w.message)}` });
    }
    if (doc.contents === null) return; // empty document (e.g. trailing ---)
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      diagnostics.push({ severity: "error", ...pos(doc.range[0]), message: `YAML: ${firstLine((err as Error).message)}` });
      return;
    }
    if (value === null || value === undefined) return;
    const start = doc.contents.range?.[0] ?? doc.range[0];
    documents.push({
      index,
      value,
      location: pos(start),
      locate(path) {
        for (let n = path.length; n >= 0; n--) {
          const node = doc.getIn(path.slice(0, n) as unknown[], true);
          if (isNode(node) && node.range) return pos(node.range[0]);
        }
        return pos(start);
      },
    });
  });
  return { documents, diagnostics };
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}
