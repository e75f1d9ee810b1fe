/**
 * @module plugins/fault/filter
 * The fault filter: delays a share of requests (flag `DI`) and aborts a share with an HTTP status or a
 * trailers-only gRPC status (flag `FI`), as Envoy's fault filter does for Istio's VirtualService
 * `fault`. A delayed request that then continues carries flag `DI` in the access log. Chances use the
 * injected random source; the delay uses the host's `sleep` when it offers one. A faulted request counts
 * towards `maxActiveFaults` until it ends (the `onComplete` hook). What was injected is recorded in the
 * metadata (`weft.fault`) for the access log.
 */
import type { FilterContext, FilterStream, HttpFilter, LocalReply } from "../../proxy/filter.ts";
import { setResponseDetails } from "../common/metadata.ts";
import { forRoute, rollPercent } from "../common/request.ts";
import { delayMs, type FaultConfig, type FaultSettings } from "./config.ts";

export const FAULT_KEY = "weft.fault";

export interface FaultRecord {
  delayedMs?: number;
  abortedWith?: { httpStatus: number } | { grpcStatus: number };
}

type Sleep = (ms: number) => Promise<void>;

function headerNumber(stream: FilterStream, name: string): number | undefined {
  const v = stream.headers.get(name);
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
  return Number(v);
}

interface Plan {
  delay?: number;
  abort?: { httpStatus: number } | { grpcStatus: number };
}

function plan(stream: FilterStream, f: FaultSettings | undefined, cfg: FaultConfig, random: () => number): Plan {
  const out: Plan = {};
  let delay = f?.delay ? { ms: delayMs(f.delay.fixedDelay), percentage: f.delay.percentage } : undefined;
  let abort: { status: { httpStatus: number } | { grpcStatus: number }; percentage: number } | undefined = f?.abort
    ? { status: f.abort.httpStatus !== undefined ? { httpStatus: f.abort.httpStatus } : { grpcStatus: f.abort.grpcStatus! }, percentage: f.abort.percentage }
    : undefined;
  if (cfg.headerControl) {
    // Envoy: header values replace the configured ones; a header percentage is capped by the configured one.
    const ms = headerNumber(stream, "x-envoy-fault-delay-request");
    const dPct = headerNumber(stream, "x-envoy-fault-delay-request-percentage");
    if (ms !== undefined) delay = { ms, percentage: Math.min(dPct ?? 100, delay?.percentage ?? 100) };
    const http = headerNumber(stream, "x-envoy-fault-abort-request");
    const grpc = headerNumber(stream, "x-envoy-fault-abort-grpc-request");
    const aPct = headerNumber(stream, "x-envoy-fault-abort-request-percentage");
    const pct = Math.min(aPct ?? 100, abort?.percentage ?? 100);
    if (http !== undefined && http >= 200 && http < 600) abort = { status: { httpStatus: http }, percentage: pct };
    else if (grpc !== undefined && grpc <= 16) abort = { status: { grpcStatus: grpc }, percentage: pct };
  }
  if (delay && delay.ms > 0 && rollPercent(delay.percentage, random)) out.delay = delay.ms;
  if (abort && rollPercent(abort.percentage, random)) out.abort = abort.status;
  return out;
}

function abortReply(status: { httpStatus: number } | { grpcStatus: number }, delayed: boolean): LocalReply {
  const flag = delayed ? "DI,FI" : "FI";
  const details = "fault_filter_abort";
  if ("httpStatus" in status) return { status: status.httpStatus, body: "fault filter abort", headers: { "content-type": "text/plain" }, flag, details };
  return { status: 200, body: "", headers: { "content-type": "application/grpc", "grpc-status": String(status.grpcStatus), "grpc-message": "fault filter abort" }, flag, details };
}

export function createFaultFilter(cfg: FaultConfig, context: FilterContext & { sleep?: Sleep }): HttpFilter {
  const sleep: Sleep = context.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  let active = 0;
  return {
    name: "fault",
    onRequest(stream) {
      const settings = forRoute(cfg.routes, stream.routeName, { delay: cfg.delay, abort: cfg.abort });
      if (settings === undefined && !cfg.headerControl) return undefined;
      if (cfg.maxActiveFaults !== undefined && active >= cfg.maxActiveFaults) return undefined;
      const p = plan(stream, settings, cfg, () => context.random());
      if (p.delay === undefined && p.abort === undefined) return undefined;
      const record: FaultRecord = {};
      stream.metadata.set(FAULT_KEY, record);
      active++;
      const finish = (): LocalReply | undefined => {
        if (p.abort === undefined) {
          stream.addResponseFlag("DI");
          return undefined;
        }
        record.abortedWith = p.abort;
        setResponseDetails(stream, "fault_filter_abort");
        return abortReply(p.abort, p.delay !== undefined);
      };
      if (p.delay === undefined) return finish();
      record.delayedMs = p.delay;
      return sleep(p.delay).then(finish);
    },
    onComplete(stream) {
      // Only requests this filter faulted are counted (and so uncounted here).
      if (stream.metadata.has(FAULT_KEY)) active--;
    },
  };
}
