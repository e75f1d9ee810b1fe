/**
 * @module adapters/kubernetes/api
 * The small slice of the Kubernetes API that weft's discovery controller and Kubernetes config store
 * use: raw JSON requests, paged lists and watches on collection paths. Objects stay exactly as the API
 * server sends them (no client-side model classes), so list and watch deliver the same shapes and the
 * pure conversions see real objects. Types only plus path helpers and the error class; the Node
 * implementation on `@kubernetes/client-node` is `api-client.ts`.
 */

export interface KubeMeta {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeMeta;
  [key: string]: unknown;
}

export interface KubeListPage {
  items: KubeObject[];
  /** The list's resourceVersion: watch from here to see every later change. */
  resourceVersion: string;
  /** Token for the next page, when the list was cut at `limit`. */
  continue?: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchParams {
  resourceVersion?: string;
  /** The server ends the watch after this long (a clean close, not an error). */
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  labelSelector?: string;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
}

/**
 * What weft needs from an API server connection.
 * Thread-safety: every method may be called concurrently; a watch's callbacks run one at a time.
 */
export interface KubeApi {
  /** One request; resolves with the parsed JSON body, rejects with `KubeApiError` on a non-2xx status. */
  request<T = KubeObject>(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, options?: RequestOptions): Promise<T>;
  /** One page of a collection. */
  list(path: string, params?: { limit?: number; continue?: string; labelSelector?: string }): Promise<KubeListPage>;
  /**
   * Watches a collection. `onDone` is called once when the stream ends: with null for a clean close,
   * with an error (a `KubeApiError` for an HTTP status) otherwise. `abort()` ends it without `onDone`.
   */
  watch(path: string, params: WatchParams, onEvent: (type: WatchEventType, object: KubeObject) => void, onDone: (error: unknown) => void): Promise<{ abort(): void }>;
}

/** A `Status` answer (or a transport failure, with `status` 0). */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  readonly causes: { field?: string; message?: string; reason?: string }[];
  constructor(status: number, message: string, reason?: string, causes: KubeApiError["causes"] = []) {
    super(message);
    this.name = "KubeApiError";
    this.status = status;
    this.reason = reason;
    this.causes = causes;
  }

  /** From a decoded `Status` object (as in an error body or a watch ERROR event). */
  static fromStatus(status: unknown, fallbackCode = 0): KubeApiError {
    const s = (status ?? {}) as { code?: number; message?: string; reason?: string; details?: { causes?: KubeApiError["causes"] } };
    return new KubeApiError(s.code ?? fallbackCode, s.message ?? `HTTP ${s.code ?? fallbackCode}`, s.reason, s.details?.causes ?? []);
  }
}

/** The HTTP status of an error from a `KubeApi` call or a watch, or 0. */
export function errorStatus(error: unknown): number {
  if (error instanceof KubeApiError) return error.status;
  const e = error as { statusCode?: unknown; code?: unknown } | null;
  if (e && typeof e.statusCode === "number") return e.statusCode;
  if (e && typeof e.code === "number") return e.code;
  return 0;
}

/** A resource type as the API serves it. */
export interface ResourceType {
  /** `""` for the core group. */
  group: string;
  version: string;
  kind: string;
  plural: string;
  /** Default true. */
  namespaced?: boolean;
}

/**
 * The path of a collection (no name) or of one object.
 * @example resourcePath({ group: "", version: "v1", kind: "Service", plural: "services" }, "default") // "/api/v1/namespaces/default/services"
 */
export function resourcePath(type: ResourceType, namespace?: string, name?: string): string {
  const base = type.group === "" ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  const ns = namespace && type.namespaced !== false ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${type.plural}${name ? `/${encodeURIComponent(name)}` : ""}`;
}

/** `Kind/namespace/name` for messages. */
export function describeObject(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return `${obj.kind ?? "?"}/${m.namespace ? `${m.namespace}/` : ""}${m.name ?? "?"}`;
}
