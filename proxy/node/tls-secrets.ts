/**
 * @module proxy/node/tls-secrets
 * The proxy's secrets (SDS by file, or inline from xDS): certificate chains, private keys and trust
 * bundles read from the files a config names (or given inline), turned into `tls.SecureContext`s (cached per certificate/bundle pair) and
 * watched. When a file changes the secret is re-read and checked (the key must match the certificate);
 * a good one replaces the old for new connections only — connections already open keep theirs — and a
 * bad or half-written one is logged and ignored until the next change, so rotation never drops traffic.
 */
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { X509Certificate } from "node:crypto";
import { createSecureContext, type SecureContext } from "node:tls";
import type { SecretConfig } from "../config/types.ts";

interface Material {
  cert?: string;
  key?: string;
  ca?: string;
}

export interface SecretStore {
  /** Loads the secrets of a config (unchanged ones are kept); rejects, changing nothing, when one is unusable. */
  apply(secrets: readonly SecretConfig[]): Promise<void>;
  /** A context presenting `certSecret`'s certificate and trusting `validationSecret`'s bundle (either may be absent). */
  context(certSecret: string | undefined, validationSecret: string | undefined): SecureContext;
  /** The PEM texts behind `context` (for `tls.Server#setSecureContext`). */
  options(certSecret: string | undefined, validationSecret: string | undefined): Material;
  /** Re-reads every secret's files now (the watcher does this on change). Resolves to the names that changed. */
  reload(): Promise<string[]>;
  /** Called with the names of secrets that changed; returns the function that unsubscribes. */
  onChange(listener: (names: string[]) => void): () => void;
  /** What each secret holds now (for the admin's `/certs`): the leaf's SANs, serial and validity; the bundle's size. */
  describe(): SecretSummary[];
  close(): void;
}

export interface SecretSummary {
  name: string;
  certificate?: { subjectAltName: string | undefined; subject: string; serialNumber: string; validFrom: string; validTo: string; daysUntilExpiration: number };
  trustedCas?: number;
}

export interface SecretStoreOptions {
  log?(line: string): void;
  /** Poll interval backing up `fs.watch` (default 2 s). */
  pollMs?: number;
  /** Wait this long after a file event before reading, so a cert and key written together are read together (default 50 ms). */
  debounceMs?: number;
}

const MIN_VERSION = "TLSv1.2";

async function readMaterial(s: SecretConfig): Promise<Material> {
  const m: Material = {};
  if (s.tlsCertificate) {
    [m.cert, m.key] = await Promise.all([readFile(s.tlsCertificate.certificateChainFile, "utf8"), readFile(s.tlsCertificate.privateKeyFile, "utf8")]);
  }
  if (s.validationContext) m.ca = await readFile(s.validationContext.trustedCaFile, "utf8");
  if (s.inline) {
    if (!s.tlsCertificate && s.inline.certificateChain !== undefined) [m.cert, m.key] = [s.inline.certificateChain, s.inline.privateKey];
    if (!s.validationContext && s.inline.trustedCa !== undefined) m.ca = s.inline.trustedCa;
  }
  // Throws on a bad PEM or a key that does not match the certificate.
  createSecureContext({ ...m, minVersion: MIN_VERSION });
  return m;
}

function filesOf(s: SecretConfig): string[] {
  const out: string[] = [];
  if (s.tlsCertificate) out.push(s.tlsCertificate.certificateChainFile, s.tlsCertificate.privateKeyFile);
  if (s.validationContext) out.push(s.validationContext.trustedCaFile);
  return out.map((f) => resolve(f));
}

/**
 * @example
 * const secrets = createSecretStore({ log: console.log });
 * await secrets.apply(config.secrets);
 * tls.connect({ host, port, secureContext: secrets.context("svid", "svid") });
 */
export function createSecretStore(options: SecretStoreOptions = {}): SecretStore {
  const log = options.log ?? (() => undefined);
  let configs = new Map<string, SecretConfig>();
  let material = new Map<string, Material>();
  let cache = new Map<string, SecureContext>();
  const listeners: ((names: string[]) => void)[] = [];
  const watchers = new Map<string, FSWatcher>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;

  const get = (name: string): Material => {
    const m = material.get(name);
    if (!m) throw new Error(`unknown secret "${name}"`);
    return m;
  };

  const options_ = (certSecret: string | undefined, validationSecret: string | undefined): Material => {
    const out: Material = {};
    if (certSecret !== undefined) {
      const m = get(certSecret);
      if (m.cert !== undefined) out.cert = m.cert;
      if (m.key !== undefined) out.key = m.key;
    }
    if (validationSecret !== undefined) {
      const ca = get(validationSecret).ca;
      if (ca !== undefined) out.ca = ca;
    }
    return out;
  };

  const rewatch = () => {
    const dirs = new Set<string>();
    for (const s of configs.values()) for (const f of filesOf(s)) dirs.add(dirname(f));
    for (const [d, w] of watchers) if (!dirs.has(d)) { w.close(); watchers.delete(d); }
    for (const d of dirs) {
      if (watchers.has(d)) continue;
      try {
        const w = watch(d, () => schedule());
        w.on("error", () => undefined);
        w.unref();
        watchers.set(d, w);
      } catch {
        // The poll still catches changes.
      }
    }
    if (poll === undefined && configs.size > 0) {
      poll = setInterval(() => void store.reload(), options.pollMs ?? 2000);
      poll.unref();
    }
  };

  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void store.reload(), options.debounceMs ?? 50);
    timer.unref();
  };

  const store: SecretStore = {
    async apply(secrets) {
      const nextMaterial = new Map<string, Material>();
      for (const s of secrets) {
        const same = configs.get(s.name);
        const kept = same && JSON.stringify(filesOf(same)) === JSON.stringify(filesOf(s)) && JSON.stringify(same.inline) === JSON.stringify(s.inline) ? material.get(s.name) : undefined;
        try {
          nextMaterial.set(s.name, kept ?? (await readMaterial(s)));
        } catch (err) {
          throw new Error(`secret ${s.name}: ${(err as Error).message}`);
        }
      }
      // Secrets whose content changed under the same name (SDS rotation) notify like a file rotation.
      const rotated = [...nextMaterial].filter(([n, m]) => {
        const old = material.get(n);
        return old !== undefined && (old.cert !== m.cert || old.key !== m.key || old.ca !== m.ca);
      }).map(([n]) => n);
      configs = new Map(secrets.map((s) => [s.name, s]));
      material = nextMaterial;
      cache = new Map();
      rewatch();
      if (rotated.length > 0) {
        log(`secret(s) rotated: ${rotated.join(", ")}; new connections use them`);
        for (const l of listeners) l(rotated);
      }
    },
    context(certSecret, validationSecret) {
      const k = `${certSecret ?? ""}\0${validationSecret ?? ""}`;
      let c = cache.get(k);
      if (c === undefined) {
        c = createSecureContext({ ...options_(certSecret, validationSecret), minVersion: MIN_VERSION });
        cache.set(k, c);
      }
      return c;
    },
    options: options_,
    async reload() {
      const changed: string[] = [];
      for (const [name, s] of configs) {
        let m: Material;
        try {
          m = await readMaterial(s);
        } catch (err) {
          log(`secret ${name}: not reloaded, the previous one stays in use: ${(err as Error).message}`);
          continue;
        }
        const old = material.get(name);
        if (old && old.cert === m.cert && old.key === m.key && old.ca === m.ca) continue;
        if (configs.get(name) !== s) continue; // replaced by a config apply meanwhile
        material.set(name, m);
        changed.push(name);
      }
      if (changed.length > 0) {
        cache = new Map();
        log(`secret(s) rotated: ${changed.join(", ")}; new connections use them`);
        for (const l of listeners) l(changed);
      }
      return changed;
    },
    onChange(l) {
      listeners.push(l);
      return () => {
        const i = listeners.indexOf(l);
        if (i !== -1) listeners.splice(i, 1);
      };
    },
    describe() {
      return [...material].map(([name, m]) => {
        const out: SecretSummary = { name };
        if (m.cert !== undefined) {
          const x = new X509Certificate(m.cert);
          out.certificate = {
            subjectAltName: x.subjectAltName, subject: x.subject, serialNumber: x.serialNumber,
            validFrom: new Date(x.validFrom).toISOString(), validTo: new Date(x.validTo).toISOString(),
            daysUntilExpiration: Math.floor((Date.parse(x.validTo) - Date.now()) / 86_400_000),
          };
        }
        if (m.ca !== undefined) out.trustedCas = (m.ca.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
        return out;
      });
    },
    close() {
      for (const w of watchers.values()) w.close();
      watchers.clear();
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
  return store;
}
