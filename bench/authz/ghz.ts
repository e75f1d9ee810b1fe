/**
 * @module bench/authz/ghz
 * The ext_authz benchmark's load generator: ghz (github.com/bojand/ghz, a Go gRPC load tester, pinned),
 * built once with `go install` into `~/.cache/weft/tools/` from the Go module proxy. A Node gRPC client
 * cannot drive 2,000 calls/s from one core (connect-node managed about 200/s here, grpc-js is no
 * lighter per call), so it measured itself, not the server; ghz's per-call cost is a few µs. ghz sends
 * open-loop at a fixed rate (`--rps --async`), round-robins the Envoy-shaped CheckRequests given as a
 * JSON array, and reports every call's latency (`-O json` details), from which the percentiles are
 * taken. The .proto it needs is rebuilt from weft's generated descriptors (a FileDescriptorSet of
 * external_auth.proto and its imports), so no second copy of Envoy's protos is kept.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { create, toBinary, toJson, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { CheckRequestSchema, file_envoy_service_auth_v3_external_auth, type CheckRequest } from "../../gen/proto/envoy/service/auth/v3/external_auth_pb.ts";

export const GHZ_VERSION = "v0.93.0"; // the newest the Go module proxy serves here

const toolDir = join(process.env.WEFT_TOOLS_CACHE ?? join(homedir(), ".cache", "weft", "tools"), "ghz", GHZ_VERSION);

/** The ghz binary, built on first use (about a minute on 2 cores; cached after). */
export function ensureGhz(): string {
  const bin = join(toolDir, "ghz");
  if (existsSync(bin)) return bin;
  mkdirSync(toolDir, { recursive: true });
  console.log(`building ghz ${GHZ_VERSION} into ${toolDir} (go install, once)...`);
  execFileSync("go", ["install", `github.com/bojand/ghz/cmd/ghz@${GHZ_VERSION}`], {
    stdio: "inherit",
    env: { ...process.env, GOBIN: toolDir, GOFLAGS: "-mod=mod" },
  });
  return bin;
}

/** A FileDescriptorSet for external_auth.proto and everything it imports, dependencies first. */
export function externalAuthProtoset(): Uint8Array {
  const ordered: FileDescriptorProto[] = [];
  const seen = new Set<string>();
  const visit = (f: DescFile) => {
    if (seen.has(f.name)) return;
    seen.add(f.name);
    for (const d of f.dependencies) visit(d);
    ordered.push(f.proto);
  };
  visit(file_envoy_service_auth_v3_external_auth);
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: ordered }));
}

export interface GhzRun {
  port: number;
  requests: CheckRequest[];
  rate: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** ghz pinned to this CPU with taskset, when set. */
  cpu?: number;
  workDir: string;
}

export interface GhzResult {
  /** Latency of each measured call, ms (warm-up calls excluded). */
  latenciesMs: number[];
  errors: number;
  statuses: Record<string, number>;
  /** ghz's own achieved rate over the whole run, calls/s. */
  rps: number;
}

interface GhzReport {
  rps: number;
  statusCodeDistribution?: Record<string, number>;
  details?: { timestamp: string; latency: number; error: string; status: string }[];
}

export async function runGhz(run: GhzRun): Promise<GhzResult> {
  const bin = ensureGhz();
  const protoset = join(run.workDir, "external_auth.protoset");
  const data = join(run.workDir, "check-requests.json");
  writeFileSync(protoset, externalAuthProtoset());
  writeFileSync(data, JSON.stringify(run.requests.map((r) => toJson(CheckRequestSchema, r))));
  const total = Math.round(run.rate * (run.seconds + run.warmupSeconds));
  const args = ["--insecure", "--protoset", protoset, "--call", "envoy.service.auth.v3.Authorization/Check",
    "--data-file", data, "--rps", String(run.rate), "--async", "-c", "50", "--connections", String(run.connections),
    "-n", String(total), "--skipFirst", String(Math.round(run.rate * run.warmupSeconds)),
    "-O", "json", `127.0.0.1:${run.port}`];
  const [cmd, argv] = run.cpu === undefined ? [bin, args] : ["taskset", ["-c", String(run.cpu), bin, ...args]];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`ghz exited ${code}: ${err.slice(-2000)}`))));
  });
  const report = JSON.parse(out) as GhzReport;
  const details = report.details ?? [];
  return {
    latenciesMs: details.filter((d) => !d.error).map((d) => d.latency / 1e6),
    errors: details.filter((d) => d.error).length,
    statuses: report.statusCodeDistribution ?? {},
    rps: report.rps,
  };
}
