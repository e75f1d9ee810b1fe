/**
 * @module adapters/kubernetes/api-client
 * `KubeApi` on Node with `@kubernetes/client-node`: its `KubeConfig` supplies the server, TLS material and
 * credentials (kubeconfig file, in-cluster service account, exec plugins), its `Watch` streams watch
 * events, and plain `node:https` requests carry lists and writes as raw JSON (client-node's typed APIs
 * would turn objects into model classes and drop fields they do not know, such as a CRD schema's
 * `x-kubernetes-*` keys).
 */
import { KubeConfig, Watch } from "@kubernetes/client-node";
import http from "node:http";
import https from "node:https";
import { KubeApiError, type KubeApi, type KubeListPage, type KubeObject, type RequestOptions, type WatchEventType } from "./api.ts";

export interface KubeApiOptions {
  /** Per-request timeout for non-watch requests (default 15 s). */
  requestTimeoutMs?: number;
}

/** Loads a KubeConfig: the given file, else `$KUBECONFIG`/`~/.kube/config`, else the in-cluster service account. */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}

/**
 * @example
 * const api = createKubeApi(loadKubeConfig(process.env.KUBECONFIG));
 * const services = await api.list("/api/v1/services");
 */
export function createKubeApi(kc: KubeConfig, options: KubeApiOptions = {}): KubeApi {
  const timeout = options.requestTimeoutMs ?? 15_000;
  const server = () => {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    return cluster.server.replace(/\/+$/, "");
  };

  const request = async <T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> => {
    const url = new URL(server() + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const reqOpts: https.RequestOptions = {
      method,
      headers: { accept: "application/json", ...(body !== undefined ? { "content-type": method === "PATCH" ? "application/merge-patch+json" : "application/json" } : {}) },
    };
    await kc.applyToHTTPSOptions(reqOpts);
    const lib = url.protocol === "http:" ? http : https;
    return new Promise<T>((resolve, reject) => {
      const req = lib.request(url, reqOpts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => reject(new KubeApiError(0, `${method} ${path}: ${e.message}`)));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : {};
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300 && parsed !== undefined) resolve(parsed as T);
          else if (parsed && typeof parsed === "object" && (parsed as { kind?: string }).kind === "Status") reject(KubeApiError.fromStatus(parsed, status));
          else reject(new KubeApiError(status, `${method} ${path}: HTTP ${status} ${text.slice(0, 200)}`));
        });
      });
      req.setTimeout(timeout, () => req.destroy(new Error(`timed out after ${timeout} ms`)));
      req.on("error", (e) => reject(new KubeApiError(0, `${method} ${path}: ${e.message}`)));
      if (body !== undefined) req.write(body);
      req.end();
    });
  };

  return {
    request: (method, path, opts) => request(method, path, opts),
    async list(path, params = {}) {
      const res = await request<{ items?: KubeObject[] | null; metadata?: { resourceVersion?: string; continue?: string } }>("GET", path, {
        query: { limit: params.limit, continue: params.continue, labelSelector: params.labelSelector },
      });
      const page: KubeListPage = { items: res.items ?? [], resourceVersion: res.metadata?.resourceVersion ?? "" };
      if (res.metadata?.continue) page.continue = res.metadata.continue;
      return page;
    },
    async watch(path, params, onEvent, onDone) {
      let aborted = false;
      const query: Record<string, string> = {};
      if (params.resourceVersion) query.resourceVersion = params.resourceVersion;
      if (params.timeoutSeconds) query.timeoutSeconds = String(params.timeoutSeconds);
      if (params.allowWatchBookmarks) query.allowWatchBookmarks = "true";
      if (params.labelSelector) query.labelSelector = params.labelSelector;
      const controller = await new Watch(kc).watch(path, query,
        (type: string, obj: KubeObject) => {
          if (!aborted) onEvent(type as WatchEventType, obj);
        },
        (err: unknown) => {
          if (aborted) return;
          aborted = true;
          onDone(err ?? null);
        });
      return {
        abort() {
          aborted = true;
          controller.abort();
        },
      };
    },
  };
}
