/**
 * @module core/identity/x509
 * The one way weft code should import `@peculiar/x509`. That library resolves its algorithm providers through
 * tsyringe, which throws at load time unless a `Reflect` metadata polyfill is installed first; this module
 * loads `reflect-metadata` and then re-exports the library, so every runtime (Node, Deno, workerd bundles)
 * gets the same, working import regardless of which module happens to load X.509 code first.
 */
import "reflect-metadata";

export * from "@peculiar/x509";
