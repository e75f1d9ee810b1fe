/**
 * @module cli/args
 * A small argument parser for weft's subcommands: repeated `-f FILE`, `--flag`, `--key value` and
 * `--key=value`, with unknown options reported by name. Node's util.parseArgs would do, but the CLI
 * must also run under Deno without Node compatibility flags, so this stays dependency-free.
 */
export interface OptionSpec {
  /** Option names including dashes, e.g. `["-f", "--file"]`. */
  names: string[];
  /** `string` takes a value; `boolean` does not. */
  type: "string" | "boolean";
  /** Repeatable string options collect into an array. */
  multiple?: boolean;
  key: string;
}

export interface Parsed {
  values: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
}

export class ArgError extends Error {}

export function parseArgs(args: string[], specs: OptionSpec[]): Parsed {
  const values: Parsed["values"] = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = specs.find((s) => s.names.includes(name));
    if (!spec) throw new ArgError(`unknown option ${name}`);
    if (spec.type === "boolean") {
      if (eq > 0) throw new ArgError(`option ${name} takes no value`);
      values[spec.key] = true;
      continue;
    }
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      value = args[++i];
      if (value === undefined) throw new ArgError(`option ${name} needs a value`);
    }
    if (spec.multiple) {
      const prev = values[spec.key];
      values[spec.key] = [...(Array.isArray(prev) ? prev : []), value];
      // `-f a.yaml b.yaml`: following non-option words are more files
      while (i + 1 < args.length && !args[i + 1]!.startsWith("-")) (values[spec.key] as string[]).push(args[++i]!);
    } else values[spec.key] = value;
  }
  return { values, positionals };
}
