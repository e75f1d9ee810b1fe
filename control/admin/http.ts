/**
 * @module control/admin/http
 * Small HTTP helpers shared by the admin routes: the one JSON error shape (`{error, diagnostics?}`),
 * content-type checks for resource bodies, and strict parsing of query parameters (a bad value is a
 * 400 naming the parameter, never a silent default).
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Diagnostic } from "../../core/schema/index.ts";

export interface ErrorBody {
  error: string;
  diagnostics?: Diagnostic[];
}

export function jsonError(c: Context, status: ContentfulStatusCode, error: string, diagnostics?: Diagnostic[]): Response {
  const body: ErrorBody = diagnostics && diagnostics.length > 0 ? { error, diagnostics } : { error };
  return c.json(body, status);
}

/** Thrown inside a handler to answer with an error; the app's error handler renders it. */
export class HttpError extends Error {
  constructor(readonly status: ContentfulStatusCode, message: string, readonly diagnostics?: Diagnostic[]) {
    super(message);
    this.name = "HttpError";
  }
}

/** Media types a resource body may have. JSON is YAML, so both go through the YAML loader. */
export const RESOURCE_MEDIA_TYPES = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "application/json"] as const;

function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Reads a YAML or JSON body as text; 415 for any other content type, 400 for an empty body. */
export async function readResourceText(c: Context): Promise<string> {
  const type = mediaType(c);
  if (!(RESOURCE_MEDIA_TYPES as readonly string[]).includes(type)) {
    throw new HttpError(415, `unsupported content type "${type || "(none)"}": send resources as ${RESOURCE_MEDIA_TYPES.join(" or ")}`);
  }
  const text = await c.req.text();
  if (text.trim() === "") throw new HttpError(400, "the request body is empty: send one or more resources");
  return text;
}

/** Reads a JSON object body; 415 unless `application/json`, 400 when it does not parse or is not an object. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  if (mediaType(c) !== "application/json") throw new HttpError(415, `unsupported content type "${mediaType(c) || "(none)"}": send application/json`);
  let value: unknown;
  try {
    value = JSON.parse(await c.req.text());
  } catch (err) {
    throw new HttpError(400, `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new HttpError(400, "the body must be a JSON object");
  return value as Record<string, unknown>;
}

/** `?name=true|false|1|0`; absent → false. */
export function queryBool(c: Context, name: string): boolean {
  const v = c.req.query(name);
  if (v === undefined || v === "" || v === "false" || v === "0") return false;
  if (v === "true" || v === "1") return true;
  throw new HttpError(400, `query parameter ${name} must be true or false, got "${v}"`);
}

/** `?name=<non-negative integer>`; absent → undefined. */
export function queryInt(c: Context, name: string): number | undefined {
  const v = c.req.query(name);
  if (v === undefined || v === "") return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new HttpError(400, `query parameter ${name} must be a non-negative integer, got "${v}"`);
  return Number(v);
}
