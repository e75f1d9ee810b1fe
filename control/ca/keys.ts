/**
 * @module control/ca/keys
 * ECDSA P-256 keys through WebCrypto (every runtime has it): generation, PKCS#8/SPKI PEM export and import.
 */
import { PemConverter } from "../../core/identity/x509.ts";

export const EC_ALG = { name: "ECDSA", namedCurve: "P-256" } as const;
export const SIGN_ALG = { name: "ECDSA", hash: "SHA-256" } as const;

/** A new P-256 key pair; the private key is extractable so the CA can persist it. */
export async function generateKeyPair(extractable = true): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(EC_ALG, extractable, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return PemConverter.encode(der, "PRIVATE KEY") + "\n";
}

export async function privateKeyFromPem(pem: string): Promise<CryptoKey> {
  const [der] = PemConverter.decode(pem);
  if (!der) throw new Error("no PRIVATE KEY block in PEM");
  return crypto.subtle.importKey("pkcs8", der, EC_ALG, true, ["sign"]);
}

export async function publicKeyFromPrivate(pem: string): Promise<CryptoKey> {
  // WebCrypto cannot derive a public key from a private one; go through JWK (x, y are in the EC JWK).
  const priv = await privateKeyFromPem(pem);
  const jwk = await crypto.subtle.exportKey("jwk", priv);
  delete jwk.d;
  jwk.key_ops = ["verify"];
  return crypto.subtle.importKey("jwk", jwk, EC_ALG, true, ["verify"]);
}
