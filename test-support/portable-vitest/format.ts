// Renders values for portable-vitest's failure messages without util.inspect: short, cycle-safe and
// the same in Node, Deno and workerd, so an assertion error shows what was received and expected.
import { isAsymmetric } from "./asymmetric.ts";

const MAX_LENGTH = 600;
const MAX_DEPTH = 4;
const MAX_ITEMS = 20;

/** A one-line rendering of `value` for a failure message. */
export function format(value: unknown): string {
  const text = render(value, 0, []);
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH)}…` : text;
}

function keyText(key: PropertyKey): string {
  if (typeof key === "symbol") return `[${key.toString()}]`;
  return /^[A-Za-z_$][\w$]*$/.test(String(key)) ? String(key) : JSON.stringify(String(key));
}

function list(items: readonly string[], open: string, close: string): string {
  const shown = items.slice(0, MAX_ITEMS);
  if (items.length > MAX_ITEMS) shown.push(`… ${items.length - MAX_ITEMS} more`);
  return `${open}${shown.join(", ")}${close}`;
}

function render(value: unknown, depth: number, seen: readonly object[]): string {
  switch (typeof value) {
    case "string": return JSON.stringify(value);
    case "bigint": return `${value}n`;
    case "number": return Object.is(value, -0) ? "-0" : String(value);
    case "symbol": return value.toString();
    case "function": return `[Function ${value.name || "anonymous"}]`;
    case "undefined": return "undefined";
    default: break;
  }
  if (value === null || typeof value !== "object") return String(value);
  if (isAsymmetric(value)) return value.toString();
  if (seen.includes(value)) return "[Circular]";
  const inner = (item: unknown): string => render(item, depth + 1, [...seen, value]);
  if (value instanceof Error) return `${value.name}(${JSON.stringify(value.message)})`;
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? "Invalid" : value.toISOString()})`;
  if (value instanceof RegExp) return String(value);
  if (typeof URL !== "undefined" && value instanceof URL) return `URL(${value.href})`;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? "[Array]" : "[Object]";
  if (Array.isArray(value)) return list(value.map(inner), "[", "]");
  if (value instanceof Map) return list([...value].map(([k, v]) => `${inner(k)} => ${inner(v)}`), "Map {", "}");
  if (value instanceof Set) return list([...value].map(inner), "Set {", "}");
  if (value instanceof ArrayBuffer) return list([...new Uint8Array(value)].map(String), "ArrayBuffer [", "]");
  if (ArrayBuffer.isView(value)) {
    const bytes = value instanceof DataView ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
      : (value as unknown as ArrayLike<number | bigint>);
    return list(Array.from(bytes, (item) => inner(item)), `${value.constructor.name} [`, "]");
  }
  const proto: unknown = Object.getPrototypeOf(value);
  const ctorName = proto === null ? "[Object: null prototype]"
    : (value as { constructor?: { name?: string } }).constructor?.name ?? "";
  const prefix = ctorName && ctorName !== "Object" ? `${ctorName} ` : "";
  const keys: PropertyKey[] = [...Object.keys(value), ...Object.getOwnPropertySymbols(value)];
  const entries = keys.map((key) => `${keyText(key)}: ${inner((value as Record<PropertyKey, unknown>)[key])}`);
  return `${prefix}${list(entries, "{", "}")}`;
}
