/**
 * @module bench/proxy/weft-entry
 * weft's proxy in quick mode as a single bundled file (esbuild), the way a production image would ship
 * it: no TypeScript loader in the process. usage: node weft.mjs LISTEN UPSTREAM_URL | node weft.mjs --config FILE
 */
import { httpFilters } from "../../plugins/registry.ts";
import { runProxy } from "../../proxy/node/run.ts";

const [listen, upstream] = process.argv.slice(2);
const proxy = listen === "--config"
  ? await runProxy({ filters: httpFilters, configFile: upstream!, log: (l) => console.error(l) })
  : await runProxy({ filters: httpFilters, quick: { listen: listen!, upstream: upstream! }, log: (l) => console.error(l) });
process.once("SIGTERM", () => void proxy.stop(1000).then(() => process.exit(0)));
