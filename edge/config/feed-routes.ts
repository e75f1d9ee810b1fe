/**
 * @module edge/config/feed-routes
 * The control plane's HTTP config feed for edge proxies (Hono routes, runtime-neutral): `GET
 * /config?node=NAME` answers the node's edge document — its proxy config template with the store's
 * AuthorizationPolicies added to every `rbac` filter, so each proxy enforces one policy set — with an
 * ETag; `If-None-Match` gets a 304. A bearer token guards the feed.
 */
import { Hono } from "hono";
import { parse, stringify } from "yaml";
import type { ConfigStore } from "../../control/store/types.ts";
import type { EdgeDocument } from "./edge-config.ts";

export interface EdgeTemplate {
  /** Proxy config file text (YAML or JSON). */
  proxy: string;
}

export interface FeedRoutesOptions {
  /** Edge templates by node name. */
  templates: ReadonlyMap<string, EdgeTemplate>;
  /** Where AuthorizationPolicies come from (absent = templates served as written). */
  store?: ConfigStore;
  /** Bearer token edge proxies present. */
  token: string;
}

/** The edge document for a template and the store's current policies. */
export function edgeDocument(template: EdgeTemplate, store: ConfigStore | undefined): EdgeDocument {
  const policies = store ? store.list({ kind: "AuthorizationPolicy" }).map((r) => r.object) : [];
  let proxy = template.proxy;
  if (policies.length > 0) {
    const doc = parse(template.proxy) as { listeners?: { http?: { filters?: { name: string; config?: { policies?: unknown } }[] } }[] };
    for (const l of doc.listeners ?? []) {
      for (const f of l.http?.filters ?? []) {
        if (f.name !== "rbac" || f.config === undefined) continue;
        const own = f.config.policies;
        f.config.policies = typeof own === "string"
          ? [own, ...policies.map((p) => stringify(p))].join("\n---\n")
          : [...(Array.isArray(own) ? own : []), ...policies];
      }
    }
    proxy = JSON.stringify(doc);
  }
  const version = `${fnv(template.proxy)}-${store?.revision() ?? 0}`;
  return { version, proxy };
}

/**
 * @example
 * app.route("/v1/edge", createFeedRoutes({ templates, store, token }));
 */
export function createFeedRoutes(opts: FeedRoutesOptions): Hono {
  const app = new Hono();
  app.get("/config", (c) => {
    if (c.req.header("authorization") !== `Bearer ${opts.token}`) return c.json({ error: "a valid feed token is required" }, 401);
    const node = c.req.query("node") ?? "";
    const template = opts.templates.get(node);
    if (template === undefined) return c.json({ error: `no edge config for node "${node}"` }, 404);
    const doc = edgeDocument(template, opts.store);
    const etag = `"${doc.version}"`;
    if (c.req.header("if-none-match") === etag) return c.body(null, 304, { etag });
    return c.json(doc, 200, { etag, "cache-control": "no-store" });
  });
  return app;
}

function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}
