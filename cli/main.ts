/**
 * @module cli/main
 * The `weft` command. Each subcommand lives in `cli/commands/<name>.ts` and exports
 * `run(args, io): Promise<number>` (the exit code). This file only dispatches, so it runs the same under
 * Node (bin/weft.js) and Deno (`deno run -A cli/main.ts`).
 */
import { createNodeOrDenoIo, type CliIo } from "./io.ts";

type Command = { summary: string; load: () => Promise<{ run(args: string[], io: CliIo): Promise<number> }> };

const commands: Record<string, Command> = {
  validate: { summary: "validate resource files (Istio and weft kinds)", load: () => import("./commands/validate.ts") },
  authz: { summary: "authz check: decide a request against policies", load: () => import("./commands/authz.ts") },
  proxy: { summary: "run the data-plane proxy (--config FILE, or --listen/--upstream)", load: () => import("./commands/proxy.ts") },
  translate: { summary: "translate policies and routes between consul, istio and weft", load: () => import("./commands/translate.ts") },
  control: { summary: "run the control plane: config store, CA, registry, admin API and UI", load: () => import("./commands/control.ts") },
  istio: { summary: "istio register-extension | ext-authz: weft as Istio's ext_authz provider", load: () => import("./commands/istio.ts") },
  demo: { summary: "a mesh on loopback: control plane, 3 services with mTLS sidecars and policies (--check to verify)", load: () => import("./commands/demo.ts") },
};

/** Registers a subcommand (used by later features: proxy, control, demo, ...). */
export function registerCommand(name: string, command: Command): void {
  commands[name] = command;
}

function usage(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`);
  return `usage: weft <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun 'weft <command> --help' for a command's options.`;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.stdout(usage() + "\n");
    return name ? 0 : 2;
  }
  if (name === "--version") {
    io.stdout("weft 0.1.0\n");
    return 0;
  }
  const command = commands[name];
  if (!command) {
    io.stderr(`weft: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest, io);
}

const io = await createNodeOrDenoIo();
if (io.isMain(import.meta.url)) {
  const code = await main(io.argv, io).catch((err: unknown) => {
    io.stderr(`weft: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 70;
  });
  io.exit(code);
}
