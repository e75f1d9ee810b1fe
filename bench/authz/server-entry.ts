/**
 * @module bench/authz/server-entry
 * The process under test in `npm run bench:authz`: weft's ext_authz server with the benchmark's
 * 100-rule policy set (bench/policy/workload.ts), on loopback. Prints `READY <port>` when listening.
 */
import { authorizationPolicyFromIstio } from "../../core/policy/index.ts";
import { createStaticPolicySource } from "../../control/extauthz/policy-source.ts";
import { startExtAuthzServer } from "../../control/extauthz/node/server.ts";
import { generateWorkload } from "../policy/workload.ts";

const rules = Number(process.argv[2] ?? 100);
const workload = generateWorkload(rules, 1, 1);
const policies = workload.istio.map((o) => {
  const r = authorizationPolicyFromIstio(o);
  if (!r.value) throw new Error(JSON.stringify(r.diagnostics));
  return r.value;
});
// BENCH_FASTPATH=0 serves Check through connect-node instead of the lean unary path, for comparison.
const server = await startExtAuthzServer({ policies: createStaticPolicySource(policies), fastPath: process.env.BENCH_FASTPATH !== "0" });
process.stdout.write(`READY ${server.port}\n`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
