// Lint rules that keep the runtime-neutral folders portable (ARCHITECTURE.md: core/ and plugins/
// use Web-standard APIs only). The separate tsconfig.portable.json has no Node types, so type-checking
// catches Node globals; this rule catches the imports and Deno.* with a message that says why.
import tseslint from "typescript-eslint";

const portableMessage = "core/ and plugins/ are runtime-neutral: use Web-standard APIs and receive platform functions by injection.";

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", "gen/**", "**/*.js", "**/*.mjs", "**/*.cjs", ".weft/**"] },
  {
    files: ["**/*.ts"],
    languageOptions: { parser: tseslint.parser },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {},
  },
  {
    files: ["core/**/*.ts", "plugins/**/*.ts", "adapters/telemetry/**/*.ts"],
    ignores: ["**/*.node.test.ts", "adapters/telemetry/node/**", "adapters/telemetry/bench/**"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: ["node:*"], message: portableMessage },
          { group: ["fs", "path", "net", "tls", "http", "http2", "https", "crypto", "os", "child_process", "stream", "events", "url", "util", "buffer", "zlib", "dns", "worker_threads"], message: portableMessage },
        ],
      }],
      "no-restricted-globals": ["error",
        { name: "Deno", message: portableMessage },
        { name: "process", message: portableMessage },
        { name: "Buffer", message: portableMessage },
        { name: "require", message: portableMessage },
        { name: "__dirname", message: portableMessage },
      ],
    },
  },
);
