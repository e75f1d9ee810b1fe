/**
 * @module core/policy/request-view
 * A request's attributes prepared for matching: values derived once per check and only when a rule
 * needs them (normalized path, principal URI, JWT iss/sub, lower-cased headers, parsed IPs).
 */
import { parseIp } from "./cidr.ts";
import { normalizePath } from "./path.ts";
import type { AuthzRequest, PathNormalization } from "./types.ts";

const UNSET = Symbol("unset");

export class RequestView {
  readonly req: AuthzRequest;
  readonly isHttp: boolean;
  readonly principal: string | undefined;
  private readonly mode: PathNormalization;
  private _path: string | null | typeof UNSET = UNSET;
  private _headers: Map<string, string> | undefined;
  private _iss: string | undefined | typeof UNSET = UNSET;
  private _sub: string | undefined;
  private _srcIp: Uint8Array | null | typeof UNSET = UNSET;
  private _remoteIp: Uint8Array | null | typeof UNSET = UNSET;
  private _dstIp: Uint8Array | null | typeof UNSET = UNSET;

  constructor(req: AuthzRequest, mode: PathNormalization) {
    this.req = req;
    this.mode = mode;
    this.isHttp = req.http !== undefined && req.http !== null;
    const p = req.source?.principal;
    this.principal = p ? (p.startsWith("spiffe://") ? p : `spiffe://${p}`) : undefined;
  }

  /** Normalized path without query; null when the path is malformed (matches nothing). */
  get path(): string | null {
    if (this._path === UNSET) this._path = this.req.http ? normalizePath(this.req.http.path, this.mode) : null;
    return this._path;
  }

  header(name: string): string | undefined {
    if (!this._headers) {
      this._headers = new Map();
      const h = this.req.http?.headers;
      if (h) {
        for (const k of Object.keys(h)) {
          const v = h[k];
          const lk = k.toLowerCase();
          const s = Array.isArray(v) ? v.join(",") : String(v);
          const prev = this._headers.get(lk);
          this._headers.set(lk, prev === undefined ? s : `${prev},${s}`);
        }
      }
    }
    return this._headers.get(name);
  }

  private splitJwt(): void {
    const claims = this.req.auth?.claims;
    let iss = typeof claims?.["iss"] === "string" ? (claims["iss"] as string) : undefined;
    let sub = typeof claims?.["sub"] === "string" ? (claims["sub"] as string) : undefined;
    const principal = this.req.auth?.principal;
    if ((iss === undefined || sub === undefined) && principal) {
      const i = principal.lastIndexOf("/");
      if (i >= 0) {
        iss ??= principal.slice(0, i);
        sub ??= principal.slice(i + 1);
      } else iss ??= principal;
    }
    this._iss = iss;
    this._sub = sub;
  }

  /** JWT issuer, when the request carries a validated token. */
  get iss(): string | undefined {
    if (this._iss === UNSET) this.splitJwt();
    return this._iss as string | undefined;
  }

  get sub(): string | undefined {
    if (this._iss === UNSET) this.splitJwt();
    return this._sub;
  }

  get srcIp(): Uint8Array | null {
    if (this._srcIp === UNSET) this._srcIp = this.req.source?.ip ? parseIp(this.req.source.ip) : null;
    return this._srcIp;
  }

  get remoteIp(): Uint8Array | null {
    if (this._remoteIp === UNSET) {
      const r = this.req.source?.remoteIp ?? this.req.source?.ip;
      this._remoteIp = r ? parseIp(r) : null;
    }
    return this._remoteIp;
  }

  get dstIp(): Uint8Array | null {
    if (this._dstIp === UNSET) this._dstIp = this.req.destination.ip ? parseIp(this.req.destination.ip) : null;
    return this._dstIp;
  }
}
