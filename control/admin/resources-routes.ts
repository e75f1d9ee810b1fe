/**
 * @module control/admin/resources-routes
 * `/v1/resources`: apply (YAML or JSON, multi-document, all-or-nothing; `?dryRun=true` answers with the
 * diff and writes nothing), validate, list, get, delete and history of config-store objects. Invalid
 * input is a 400 whose diagnostics name file:line, object and field; nothing is written unless every
 * object is valid, so a bad request never loses accepted config.
 */
import { Hono, type Context } from "hono";
import type { KindSpec } from "../../core/resources/kind.ts";
import { parsePath } from "../../core/resources/load.ts";
import { keyFromObject, keyOf } from "../store/store.ts";
import { ConflictError, StoreValidationError, type ApplyResult, type ConfigStore, type StoredResource } from "../store/types.ts";
import { HttpError, queryBool, queryInt, readResourceText } from "./http.ts";
import { parseResourceBody } from "./resource-body.ts";

export interface ResourcesRoutesOptions {
  store: ConfigStore;
  kinds: readonly KindSpec[];
  maxBodyBytes: number;
}

function view(r: StoredResource) {
  return { group: r.group, kind: r.kind, namespace: r.namespace, name: r.name, revision: r.revision, createRevision: r.createRevision, object: r.object };
}

function valueAt(obj: unknown, path: string): unknown {
  if (path === "(root)") return obj;
  let cur: unknown = obj;
  for (const seg of parsePath(path)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function actorOf(c: Context): string {
  const h = c.req.header("x-weft-actor");
  return h ? `admin:${h.slice(0, 100)}` : "admin";
}

function fileLabel(c: Context): string {
  const f = c.req.query("file");
  return f ? f.slice(0, 200) : "body";
}

/** Store errors → HTTP errors; anything else propagates (500). */
async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreValidationError) throw new HttpError(400, "invalid resources; nothing was written", err.diagnostics);
    if (err instanceof ConflictError) throw new HttpError(409, err.message);
    if (err instanceof Error && err.message === "config store is closed") throw new HttpError(503, "the config store is closed (shutting down)");
    throw err;
  }
}

export function createResourcesRoutes(opts: ResourcesRoutesOptions): Hono {
  const { store, kinds } = opts;
  const app = new Hono();

  const parse = async (c: Context) => {
    const file = fileLabel(c);
    const body = parseResourceBody(await readResourceText(c), kinds, { file, maxBytes: opts.maxBodyBytes });
    return { file, ...body };
  };

  /** For a dry run: the before/after value of each changed field. */
  const withFields = (result: ApplyResult, objects: Record<string, unknown>[]) => {
    const submitted = new Map(objects.map((o) => [keyOf(keyFromObject(o)), o]));
    return result.changes.map((ch) => {
      if (ch.action !== "update" || !ch.changedPaths) return ch;
      const after = submitted.get(ch.key);
      const before = after ? store.get(keyFromObject(after))?.object : undefined;
      return { ...ch, fields: ch.changedPaths.map((path) => ({ path, before: valueAt(before, path), after: valueAt(after, path) })) };
    });
  };

  app.post("/", async (c) => {
    const dryRun = queryBool(c, "dryRun");
    const expectRevision = queryInt(c, "expectRevision");
    const { objects, diagnostics } = await parse(c);
    if (diagnostics.some((d) => d.severity === "error")) throw new HttpError(400, "invalid resources; nothing was written", diagnostics);
    const result = await storeCall(() => store.apply(objects, { dryRun, actor: actorOf(c), ...(expectRevision !== undefined ? { expectRevision } : {}) }));
    const changes = dryRun ? withFields(result, objects) : result.changes;
    return c.json({ revision: result.revision, dryRun: result.dryRun, changes, diagnostics });
  });

  app.post("/validate", async (c) => {
    const { objects, found, diagnostics } = await parse(c);
    const all = [...diagnostics];
    let changes: unknown[] = [];
    if (!all.some((d) => d.severity === "error")) {
      try {
        changes = (await store.apply(objects, { dryRun: true })).changes;
      } catch (err) {
        if (!(err instanceof StoreValidationError)) throw err;
        all.push(...err.diagnostics.filter((d) => d.severity === "error"));
      }
    }
    const errors = all.filter((d) => d.severity === "error").length;
    return c.json({ valid: errors === 0, objects: found, errors, warnings: all.length - errors, diagnostics: all, changes });
  });

  const list = (c: Context) => {
    const kind = c.req.param("kind") ?? c.req.query("kind");
    const namespace = c.req.param("namespace") ?? c.req.query("namespace");
    const group = c.req.query("group");
    const items = store.list({ ...(kind ? { kind } : {}), ...(namespace ? { namespace } : {}), ...(group !== undefined ? { group } : {}) });
    return c.json({ revision: store.revision(), items: items.map(view) });
  };
  app.get("/", list);
  app.get("/:kind", list);
  app.get("/:kind/:namespace", list);

  /** Finds the stored object; 409 when the kind exists in several groups and no `?group=` says which. */
  const find = (c: Context): StoredResource | undefined => {
    const { kind, namespace, name } = c.req.param() as { kind: string; namespace: string; name: string };
    const group = c.req.query("group");
    if (group !== undefined) return store.get({ group, kind, namespace, name });
    const hits = store.list({ kind, namespace }).filter((r) => r.name === name);
    if (hits.length > 1) throw new HttpError(409, `${kind}/${namespace}/${name} exists in several API groups (${hits.map((h) => h.group).join(", ")}); add ?group=`);
    return hits[0];
  };
  const notFound = (c: Context) => {
    const { kind, namespace, name } = c.req.param() as Record<string, string>;
    return new HttpError(404, `${kind}/${namespace}/${name} not found`);
  };

  app.get("/:kind/:namespace/:name", (c) => {
    const r = find(c);
    if (!r) throw notFound(c);
    return c.json(view(r));
  });

  app.delete("/:kind/:namespace/:name", async (c) => {
    const dryRun = queryBool(c, "dryRun");
    const expectRevision = queryInt(c, "expectRevision");
    const r = find(c);
    if (!r) throw notFound(c);
    const result = await storeCall(() => store.delete([r], { dryRun, actor: actorOf(c), ...(expectRevision !== undefined ? { expectRevision } : {}) }));
    return c.json({ revision: result.revision, dryRun: result.dryRun, changes: result.changes });
  });

  app.get("/:kind/:namespace/:name/history", (c) => {
    const { kind, namespace, name } = c.req.param() as { kind: string; namespace: string; name: string };
    const explicit = c.req.query("group");
    const current = find(c);
    const groups = explicit !== undefined ? [explicit] : current ? [current.group] : [...new Set(kinds.filter((k) => k.kind === kind).map((k) => k.group))];
    for (const group of groups) {
      const entries = store.history({ group, kind, namespace, name });
      if (entries.length > 0) return c.json({ key: keyOf({ group, kind, namespace, name }), entries });
    }
    throw notFound(c);
  });

  return app;
}
