/**
 * @module cli/commands/demo
 * `weft demo`: the whole mesh on loopback in this process — the control plane (temporary data
 * directory), frontend, backend and payments each behind a weft sidecar with mTLS from weft's CA, and
 * Istio AuthorizationPolicies applied through the admin API — printing the URLs and what to try, until
 * Ctrl-C. `weft demo --check` starts the same mesh, drives scripted traffic, prints what it saw and
 * exits 0 only when every expectation holds.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ArgError, parseArgs } from "../args.ts";
import type { CliIo } from "../io.ts";

const USAGE = `usage: weft demo [--check] [--verbose]

  Starts a control plane and three services (frontend, backend, payments), each with a weft sidecar,
  on loopback: mTLS between sidecars with SVIDs from weft's CA, Istio AuthorizationPolicies applied
  through the control plane (frontend -> backend allowed; frontend -> payments denied except
  GET /health), and an ingress into the frontend. Runs until Ctrl-C.

  --check     drive scripted traffic, print what was seen, exit 0 only when every expectation holds
  --verbose   also print the control plane's and the sidecars' operational log (stderr)
`;

export async function run(args: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs(args, [
      { names: ["--check"], type: "boolean", key: "check" },
      { names: ["--verbose", "-v"], type: "boolean", key: "verbose" },
      { names: ["-h", "--help"], type: "boolean", key: "help" },
    ]));
  } catch (err) {
    if (err instanceof ArgError) {
      io.stderr(`weft demo: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const check = values.check === true;
  const verbose = values.verbose === true;
  const { startDemoMesh } = await import("../../control/demo/mesh.ts");
  const { runDemoCheck, CHARGE_POLICY } = await import("../../control/demo/check.ts");
  const { DEMO_SERVICES } = await import("../../control/demo/sidecar-config.ts");

  io.stdout(`weft demo: starting the control plane, 3 services and 3 sidecars on loopback...\n`);
  let mesh;
  try {
    mesh = await startDemoMesh({
      log: (line) => verbose && io.stderr(`${line}\n`),
      refreshMs: 1000,
      onAccessLog: check ? undefined : (service, e) => {
        if (e.listener === "outbound") return;
        const peer = typeof e.downstream_peer_uri_san === "string" ? ` peer=${e.downstream_peer_uri_san}` : "";
        const details = typeof e.response_code_details === "string" ? ` ${e.response_code_details}` : "";
        io.stdout(`[${service} ${e.listener}] ${String(e.method)} ${String(e.path)} ${String(e.response_code)}${details}${peer}\n`);
      },
    });
  } catch (err) {
    io.stderr(`weft demo: the mesh did not start: ${(err as Error).message}\n`);
    return 1;
  }
  const m = mesh;
  const ui = `${m.adminUrl}/ui#token=${encodeURIComponent(m.adminToken)}`;
  io.stdout(`\n  ingress (frontend)  ${m.ingressUrl}\n`);
  io.stdout(`  admin UI            ${ui}\n`);
  io.stdout(`  admin API           ${m.adminUrl}  (Authorization: Bearer ${m.adminToken})\n`);
  io.stdout(`  config feed         ${m.feedUrl}\n`);
  for (const name of DEMO_SERVICES) {
    const s = m.sidecars.get(name)!;
    io.stdout(`  ${name.padEnd(9)} app http://127.0.0.1:${s.ports.app}  sidecar in 127.0.0.1:${s.ports.inbound} (mTLS) out 127.0.0.1:${s.ports.outbound}  ${s.spiffeId}\n`);
  }

  if (check) {
    io.stdout(`\nweft demo --check: scripted traffic\n`);
    let outcomes;
    try {
      outcomes = await runDemoCheck(m, (o) => {
        io.stdout(`  ${o.ok ? "ok  " : "FAIL"} ${o.name}\n         ${o.seen}\n`);
        if (o.problem) io.stdout(`         problem: ${o.problem}\n`);
      });
    } finally {
      await m.stop();
    }
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length === 0) {
      io.stdout(`\nweft demo --check: all ${outcomes.length} expectations hold (mTLS with SPIFFE IDs, policies from the control plane)\n`);
      return 0;
    }
    io.stderr(`\nweft demo --check: FAILED: ${failed.length} of ${outcomes.length} expectations do not hold:\n${failed.map((o) => `  - ${o.name}: ${o.problem ?? o.seen}`).join("\n")}\n`);
    return 1;
  }

  const chargeFile = join(m.dataDir, "payments-allow-charge.yaml");
  await writeFile(chargeFile, CHARGE_POLICY);
  const ing = m.ingressUrl;
  const pay = m.sidecars.get("payments")!.ports;
  const back = m.sidecars.get("backend")!.ports;
  const auth = `-H 'authorization: Bearer ${m.adminToken}'`;
  io.stdout(`
Try:
  curl -s ${ing}/call/backend/items                # 200  frontend -> backend: allowed (backend-allow-frontend)
  curl -s ${ing}/call/payments/health              # 200  frontend -> payments GET /health: allowed (payments-allow-health)
  curl -s -X POST ${ing}/call/payments/charge      # 403  frontend -> payments POST /charge: denied
  curl -s -H 'host: backend' http://127.0.0.1:${pay.outbound}/items   # 403  payments -> backend: denied (only frontend may call)
  curl -s http://127.0.0.1:${back.inbound}/items            # fails: plaintext is refused by STRICT mTLS
  curl -s ${auth} ${m.adminUrl}/v1/resources/AuthorizationPolicy    # the policies in the store

Change policy through the control plane (sidecars pick it up within a second):
  curl -s -X POST ${auth} -H 'content-type: application/yaml' --data-binary @${chargeFile} ${m.adminUrl}/v1/resources
  curl -s -X POST ${ing}/call/payments/charge      # now 200
  curl -s -X DELETE ${auth} ${m.adminUrl}/v1/resources/AuthorizationPolicy/demo/payments-allow-charge

Each sidecar's access log follows (inbound and ingress). Ctrl-C stops everything.
`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      io.stdout(`\nweft demo: ${signal}: shutting down\n`);
      m.stop().then(() => {
        io.stdout("weft demo: stopped\n");
        resolve(0);
      }, (err: unknown) => {
        io.stderr(`weft demo: stop failed: ${(err as Error).message}\n`);
        resolve(1);
      });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
