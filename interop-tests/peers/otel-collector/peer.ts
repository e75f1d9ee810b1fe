// The OpenTelemetry Collector, built with the official collector builder (ocb) from the Go module proxy
// with only what the suites need: the OTLP receiver, the debug exporter and the file exporter.
// `start()` runs it with OTLP/HTTP and OTLP/gRPC on free loopback ports, its own telemetry off, and
// every received trace, metric and log written as OTLP/JSON lines to a file the suite can read.

import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { versions } from "../versions.ts";
import { freePorts, hasReadyMarker, httpOk, peerDir, runLogged, spawnPeer, tmpDataDir, waitFor, writeReadyMarker } from "../lib.ts";
import type { Peer, PeerHandle, SpawnedProcess } from "../types.ts";

const version = versions.otelCollector;
const dir = peerDir("otel-collector", version);
const builderBin = join(dir, "tools", "builder");
export const collectorBin = join(dir, "build", "otelcol-weft");
const core = "go.opentelemetry.io/collector";
const contrib = "github.com/open-telemetry/opentelemetry-collector-contrib";

/** The collector builder manifest. */
export function builderManifest(): string {
  return stringify({
    dist: { name: "otelcol-weft", description: "weft interop-test collector", output_path: join(dir, "build"), version },
    receivers: [{ gomod: `${core}/receiver/otlpreceiver v${version}` }],
    exporters: [
      { gomod: `${core}/exporter/debugexporter v${version}` },
      { gomod: `${contrib}/exporter/fileexporter v${version}` },
    ],
  });
}

export interface CollectorHandle extends PeerHandle {
  /** Base URL of the OTLP/HTTP receiver; traces go to `${otlpHttpUrl}/v1/traces`. */
  otlpHttpUrl: string;
  /** `127.0.0.1:<port>` of the OTLP/gRPC receiver. */
  otlpGrpcEndpoint: string;
  /** File the file exporter writes (one OTLP/JSON export request per line). */
  outputPath: string;
  /** Parsed lines of `outputPath` so far. */
  exported(): unknown[];
  process: SpawnedProcess;
}

const otelCollector: Peer<CollectorHandle> = {
  name: "otel-collector",
  version,
  description: "OpenTelemetry Collector (ocb build: otlp receiver, debug and file exporters)",
  dir,
  diskHint: "47 MB: 34 MB collector + 13 MB builder (plus the shared Go caches)",
  async ready() {
    return hasReadyMarker(dir, [collectorBin]);
  },
  async install(ctx) {
    const env = { GOFLAGS: "-mod=mod", GOBIN: join(dir, "tools") };
    await ctx.step(`go install collector builder v${version}`, () =>
      runLogged("go", ["install", `${core}/cmd/builder@v${version}`], { env, logPath: ctx.log }));
    // The builder's own module step runs `go mod tidy`, which also resolves test-only imports of the
    // contrib file exporter (otlpencodingextension) that the module proxy does not serve; so the builder
    // only generates the sources and `go build -mod=mod` resolves just what the binary imports.
    await ctx.step("builder: generate sources", async () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "builder-config.yaml"), builderManifest());
      await runLogged(builderBin, ["--config", join(dir, "builder-config.yaml"), "--skip-compilation", "--skip-get-modules"],
        { cwd: dir, env, logPath: ctx.log });
    });
    await ctx.step("go build otelcol-weft", () =>
      runLogged("go", ["build", "-trimpath", "-ldflags", "-s -w", "-o", collectorBin, "."], { cwd: join(dir, "build"), env, logPath: ctx.log }));
    await ctx.step("otelcol-weft --version", async () => {
      await runLogged(collectorBin, ["--version"], { logPath: ctx.log });
      writeReadyMarker(dir, { bin: collectorBin });
    });
  },
  async start() {
    const work = tmpDataDir("otel-collector");
    const [httpPort, grpcPort] = (await freePorts(2)) as [number, number];
    const outputPath = join(work, "exported.jsonl");
    const configPath = join(work, "config.yaml");
    const pipeline = { receivers: ["otlp"], exporters: ["file", "debug"] };
    writeFileSync(configPath, stringify({
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${httpPort}` }, grpc: { endpoint: `127.0.0.1:${grpcPort}` } } } },
      exporters: { file: { path: outputPath, flush_interval: "100ms" }, debug: { verbosity: "detailed" } },
      service: {
        telemetry: { metrics: { level: "none" } },
        pipelines: { traces: pipeline, metrics: pipeline, logs: pipeline },
      },
    }));
    const logPath = join(work, "collector.log");
    const proc = spawnPeer(collectorBin, ["--config", configPath], { cwd: work, logPath });
    const otlpHttpUrl = `http://127.0.0.1:${httpPort}`;
    try {
      await waitFor(() => httpOk(otlpHttpUrl, () => true), { what: `otel collector OTLP/HTTP on ${otlpHttpUrl}`, logPath, process: proc, timeoutMs: 60_000 });
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return {
      otlpHttpUrl, otlpGrpcEndpoint: `127.0.0.1:${grpcPort}`, outputPath, process: proc, logPath,
      exported: () => existsSync(outputPath)
        ? readFileSync(outputPath, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as unknown) : [],
      stop: () => proc.stop(),
    };
  },
};

export default otelCollector;
