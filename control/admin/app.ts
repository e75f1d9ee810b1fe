/**
 * @module control/admin/app
 * The control plane's admin API as one runtime-neutral Hono app: resources in the config store,
 * the registry, the live mesh, the CA, the OpenAPI document and the web page. Every route needs the
 * admin token except `/healthz`, the page (`/ui`, which holds no data), the trust bundle and SVID
 * issuance (whose credential is a join token). Bodies are capped; every error is JSON
 * `{error, diagnostics?}`; a handler that throws yields a 500 and the server keeps running.
 * Hosts serve `app.fetch` (Node: `control/node/admin-server.ts`).
 */
import { Hono } from "hono";
import { allKinds } from "../../core/resources/all-kinds.ts";
import type { KindSpec } from "../../core/resources/kind.ts";
import type { CertificateAuthority } from "../ca/authority.ts";
import type { JoinTokenStore } from "../ca/join-tokens.ts";
import type { Registry } from "../registry/registry.ts";
import type { ConfigStore } from "../store/types.ts";
import { createUiRoutes } from "../ui/page.ts";
import { requireAdminToken } from "./auth.ts";
import { createBodyLimit } from "./body-limit.ts";
import { createCaRoutes } from "./ca-routes.ts";
import { HttpError, jsonError } from "./http.ts";
import { createInMemoryMeshStatus, type MeshStatusProvider } from "./mesh-status.ts";
import { openApiDocument } from "./openapi.ts";
import { createResourcesRoutes } from "./resources-routes.ts";
import { createMeshRoutes, createRegistryRoutes } from "./status-routes.ts";

export interface AdminAppOptions {
  /** The bearer token for admin routes (at least 8 characters). */
  adminToken: string;
  store: ConfigStore;
  registry: Registry;
  ca: CertificateAuthority;
  joinTokens: JoinTokenStore;
  /** Connected proxies; the xDS server provides it. Default: none connected. */
  mesh?: MeshStatusProvider;
  /** Kinds accepted on apply (default: every kind weft knows). */
  kinds?: readonly KindSpec[];
  /** Largest request body in bytes (default 4 MiB). */
  maxBodyBytes?: number;
  now?: () => number;
  sourceDetails?: () => Record<string, unknown>;
  /** Istio's root namespace, for drawing mesh-wide policies (default istio-system). */
  rootNamespace?: string;
  /** Where unexpected errors are reported (default: nowhere). */
  onInternalError?: (err: unknown, method: string, path: string) => void;
}

/** Routes anyone may call. */
function isPublic(path: string): boolean {
  return path === "/healthz" || path === "/ui" || path.startsWith("/ui/") || path === "/v1/ca/bundle" || path === "/v1/ca/svid";
}

/**
 * @example
 * const app = createAdminApp({ adminToken, store, registry, ca, joinTokens });
 * const res = await app.request("/v1/resources", { headers: { authorization: `Bearer ${adminToken}` } });
 */
export function createAdminApp(opts: AdminAppOptions): Hono {
  const maxBodyBytes = opts.maxBodyBytes ?? 4 * 1024 * 1024;
  const now = opts.now ?? (() => Date.now());
  const mesh = opts.mesh ?? createInMemoryMeshStatus();
  const adminAuth = requireAdminToken(opts.adminToken);
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof HttpError) return jsonError(c, err.status, err.message, err.diagnostics);
    opts.onInternalError?.(err, c.req.method, c.req.path);
    return jsonError(c, 500, "internal error; the control plane keeps running and no accepted config was lost");
  });
  app.notFound((c) => jsonError(c, 404, `no route for ${c.req.method} ${c.req.path}`));

  app.use("*", async function adminGuard(c, next) {
    if (isPublic(c.req.path)) return next();
    return adminAuth(c, next);
  });
  app.use("*", createBodyLimit(maxBodyBytes, (c) => jsonError(c, 413, `the request body is larger than the limit of ${maxBodyBytes} bytes`)));

  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/openapi.json", (c) => c.json(openApiDocument));
  app.route("/ui", createUiRoutes());
  app.route("/v1/resources", createResourcesRoutes({ store: opts.store, kinds: opts.kinds ?? allKinds, maxBodyBytes }));
  const statusOpts = { registry: opts.registry, store: opts.store, mesh, now, ...(opts.sourceDetails ? { sourceDetails: opts.sourceDetails } : {}), ...(opts.rootNamespace ? { rootNamespace: opts.rootNamespace } : {}) };
  app.route("/v1/registry", createRegistryRoutes(statusOpts));
  app.route("/v1/mesh", createMeshRoutes(statusOpts));
  app.route("/v1/ca", createCaRoutes({ ca: opts.ca, joinTokens: opts.joinTokens }));
  return app;
}
