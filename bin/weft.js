#!/usr/bin/env node
// The `weft` command on Node.js. Sources are TypeScript; tsx compiles them once at load time
// (esbuild), so the hot paths run as plain JavaScript.
import { register } from "tsx/esm/api";
register();
await import("../cli/main.ts");
