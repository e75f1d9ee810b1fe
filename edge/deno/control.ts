/**
 * @module edge/deno/control
 * The weft control plane on Deno (`deno task control ...`): the config store on a Deno file log, the
 * CA (state in `<data>/ca.json`, mode 0600), join tokens, the registry, the Hono admin API and UI, and
 * the HTTP config feed for edge proxies (`/v1/edge/config?node=NAME`: the node's proxy config template
 * with the store's AuthorizationPolicies in its rbac filters) — all on one `Deno.serve` port. The first
 * stdout line is `control plane on <url>`.
 *
 *   deno task control --data .weft/control --listen 127.0.0.1:15000 --admin-token TOKEN \
 *     --feed-token FEEDTOKEN --edge edge=edge/examples/edge.yaml [--edge sidecar=...] [--trust-domain cluster.local]
 */
import { Hono } from "hono";
import { allKinds } from "../../core/resources/all-kinds.ts";
import { validateResource } from "../../core/resources/kind.ts";
import { createAdminApp } from "../../control/admin/app.ts";
import { createCertificateAuthority, type CaState } from "../../control/ca/authority.ts";
import { createJoinTokenStore } from "../../control/ca/join-tokens.ts";
import { createRegistry } from "../../control/registry/registry.ts";
import { createConfigStore } from "../../control/store/store.ts";
import { createFeedRoutes, type EdgeTemplate } from "../config/feed-routes.ts";
import { createDenoFileLog } from "./file-log.ts";

const USAGE = `usage: deno task control --admin-token TOKEN --feed-token TOKEN [--data DIR] [--listen HOST:PORT] [--edge NODE=FILE ...] [--trust-domain TD]
  --data DIR           store (file log) and CA state (default .weft/control-deno)
  --listen HOST:PORT   admin API, UI and edge feed (default 127.0.0.1:15000)
  --admin-token T      bearer token of the admin API (8+ characters; or WEFT_ADMIN_TOKEN)
  --feed-token T       bearer token edge proxies present to the feed (or WEFT_FEED_TOKEN)
  --edge NODE=FILE     the proxy config template served to edge node NODE (repeatable)`;
if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(USAGE);
  Deno.exit(0);
}

const argv = Deno.args;
const all = (name: string) => argv.flatMap((a, i) => (a === `--${name}` && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
const one = (name: string) => all(name).at(-1);

const dataDir = one("data") ?? ".weft/control-deno";
const trustDomain = one("trust-domain") ?? "cluster.local";
const adminToken = one("admin-token") ?? Deno.env.get("WEFT_ADMIN_TOKEN");
const feedToken = one("feed-token") ?? Deno.env.get("WEFT_FEED_TOKEN");
if (!adminToken || adminToken.length < 8 || !feedToken) {
  console.error(`give --admin-token (8+ characters) and --feed-token (or WEFT_ADMIN_TOKEN / WEFT_FEED_TOKEN)\n${USAGE}`);
  Deno.exit(2);
}

const store = await createConfigStore({ log: await createDenoFileLog(dataDir), validate: (o) => validateResource(o, allKinds) });
const caFile = `${dataDir}/ca.json`;
let saved: CaState | undefined;
try {
  saved = JSON.parse(await Deno.readTextFile(caFile)) as CaState;
} catch (err) {
  if (!(err instanceof Deno.errors.NotFound)) throw err;
}
const ca = await createCertificateAuthority({ trustDomain }, saved);
if (!saved) {
  await Deno.writeTextFile(`${caFile}.tmp`, JSON.stringify(await ca.exportState(), null, 2) + "\n", { mode: 0o600 });
  await Deno.rename(`${caFile}.tmp`, caFile);
}

const templates = new Map<string, EdgeTemplate>();
for (const spec of all("edge")) {
  const eq = spec.indexOf("=");
  if (eq <= 0) {
    console.error(`--edge expects NODE=FILE, got "${spec}"`);
    Deno.exit(2);
  }
  templates.set(spec.slice(0, eq), { proxy: await Deno.readTextFile(spec.slice(eq + 1)) });
}

const admin = createAdminApp({
  adminToken, store, registry: createRegistry(), ca, joinTokens: createJoinTokenStore(),
  onInternalError: (err, method, path) => console.error(`admin API: ${method} ${path}: ${(err as Error).stack ?? String(err)}`),
});
const app = new Hono();
app.route("/v1/edge", createFeedRoutes({ templates, store, token: feedToken }));
app.route("/", admin);

const listen = one("listen") ?? "127.0.0.1:15000";
const colon = listen.lastIndexOf(":");
const server = Deno.serve({
  hostname: listen.slice(0, colon).replace(/^\[|\]$/g, ""),
  port: Number(listen.slice(colon + 1)),
  onListen: (a) => console.log(`control plane on http://${a.hostname}:${a.port} (CA ${saved ? "restored" : "generated"}, ${templates.size} edge node(s))`),
}, (request) => app.fetch(request));
Deno.addSignalListener("SIGTERM", () => {
  void server.shutdown().then(() => store.close()).then(() => Deno.exit(0));
});
