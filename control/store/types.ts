/**
 * @module control/store/types
 * The config store's contract. Resources are Kubernetes-shaped objects (weft's own kinds and Istio's
 * verbatim), keyed by group/kind/namespace/name. Every change gets a store-wide revision number;
 * watchers receive changes after a revision; history keeps past versions until compaction.
 *
 * Implementations: `createConfigStore(log)` (embedded; durable through an injected append-only log —
 * files on Node, Deno KV or files on Deno) and, for several control-plane replicas, a distributed
 * backend (Consul KV or Kubernetes CRDs) implementing the same `ConfigStore` interface.
 */
import type { Diagnostic } from "../../core/schema/index.ts";

export interface ResourceKey {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface StoredResource extends ResourceKey {
  object: Record<string, unknown>;
  /** Revision at which this version was written. */
  revision: number;
  /** Revision at which the object was first created. */
  createRevision: number;
}

export interface ChangeEvent {
  type: "PUT" | "DELETE";
  revision: number;
  key: string;
  resource: StoredResource;
  /** The previous version (PUT of an existing object, or DELETE). */
  previous?: StoredResource;
}

export interface ApplyOptions {
  /** Validate and compute the diff only. */
  dryRun?: boolean;
  /** Fail with `ConflictError` unless the store is still at this revision (optimistic concurrency). */
  expectRevision?: number;
  /** Who made the change (kept in history). */
  actor?: string;
}

export interface ChangeSummary {
  key: string;
  action: "create" | "update" | "unchanged" | "delete";
  /** Field paths that differ (update only). */
  changedPaths?: string[];
}

export interface ApplyResult {
  revision: number;
  changes: ChangeSummary[];
  diagnostics: Diagnostic[];
  dryRun: boolean;
}

export interface HistoryEntry {
  revision: number;
  type: "PUT" | "DELETE";
  object: Record<string, unknown> | null;
  actor?: string;
  time: number;
}

export interface ConfigStore {
  /** Validates and writes objects atomically (all or none). Throws `StoreValidationError` on invalid input. */
  apply(objects: Record<string, unknown>[], options?: ApplyOptions): Promise<ApplyResult>;
  delete(keys: ResourceKey[], options?: ApplyOptions): Promise<ApplyResult>;
  get(key: ResourceKey): StoredResource | undefined;
  list(filter?: { kind?: string; group?: string; namespace?: string }): StoredResource[];
  /** The store's current revision. */
  revision(): number;
  /** Calls `onChange` for every change after `fromRevision` (replaying history first), then live. */
  watch(fromRevision: number, onChange: (events: ChangeEvent[]) => void): () => void;
  history(key: ResourceKey): HistoryEntry[];
  close(): Promise<void>;
}

export class StoreValidationError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.filter((d) => d.severity === "error").map((d) => `${d.object ?? ""}${d.path ? ` ${d.path}` : ""}: ${d.message}`).join("\n"));
    this.name = "StoreValidationError";
    this.diagnostics = diagnostics;
  }
}

export class ConflictError extends Error {}
export class CompactedError extends Error {}

/** One durable record: a committed batch of changes. */
export interface LogRecord {
  revision: number;
  time: number;
  actor?: string;
  puts: { key: string; object: Record<string, unknown> }[];
  deletes: string[];
  /** A snapshot replaces all state before it (written by compaction). */
  snapshot?: boolean;
}

/** An append-only durable log, injected by the host (files, Deno KV, ...). */
export interface DurableLog {
  /** Every record in order (a torn last record from a crash is dropped, not an error). */
  readAll(): Promise<LogRecord[]>;
  /** Appends and makes the record durable (fsync) before resolving. */
  append(record: LogRecord): Promise<void>;
  /** Replaces the log with a snapshot record atomically (write, fsync, rename). */
  compact(snapshot: LogRecord): Promise<void>;
  close(): Promise<void>;
}
