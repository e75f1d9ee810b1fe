/**
 * @module bench/proxy/load
 * The load side of the proxy benchmark: `wrk` at full speed (throughput) and `wrk` held to a constant
 * rate (added latency and CPU at a fixed load). wrk2 is not in Debian, so the fixed rate comes from a Lua
 * `delay()` that hands each request the next slot of a fixed schedule (one slot every 1/rate s on the
 * thread's monotonic clock, read through LuaJIT's FFI); wrk starts a request's latency clock when it
 * writes it, so the pacing delay is not in the latency. wrk rounds delays down to whole milliseconds, so
 * requests leave up to 1 ms early, never late: the mean rate is exact, the spacing jitters by ≤ 1 ms.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { toMs } from "./harness.ts";

export interface LoadSample {
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  /** Proxy CPU seconds per 1,000 requests (filled in by the caller). */
  cpuSecPer1k?: number;
  /** Proxy CPU seconds per wall second (filled in by the caller). */
  vcpu?: number;
}

function parse(out: string): LoadSample {
  const pct = (p: string) => toMs(new RegExp(`\\s${p}%\\s+(\\S+)`).exec(out)?.[1] ?? "");
  const errs = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    p50Ms: pct("50"),
    p90Ms: pct("90"),
    p99Ms: pct("99"),
    errors: (errs ? Number(errs[1]) : 0) + (sock ? sock.slice(1).reduce((s, x) => s + Number(x), 0) : 0),
  };
}

/** wrk as fast as it goes: `connections` connections, one thread, pinned to `core`. */
export function wrkMax(core: string, url: string, seconds: number, connections: number): LoadSample {
  const out = execFileSync("taskset", ["-c", core, "wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "--latency", url], { encoding: "utf8" });
  return parse(out);
}

/** Writes the constant-rate Lua script for `rate` requests/s (one wrk thread) and returns its path. */
export function rateScript(dir: string, rate: number): string {
  const file = join(dir, `rate-${rate}.lua`);
  writeFileSync(file, `-- constant rate: request k leaves at t0 + k/rate (one wrk thread)
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } weft_timespec;
int clock_gettime(int clk_id, weft_timespec *tp);
]]
local ts = ffi.new("weft_timespec[1]")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts[0].tv_sec) * 1000 + tonumber(ts[0].tv_nsec) / 1e6
end
local interval = 1000 / ${rate}
local slot = nil
function delay()
  local t = now_ms()
  if slot == nil then slot = t end
  local d = slot - t
  slot = slot + interval
  if d < 0 then return 0 end
  return d
end
`);
  return file;
}

/** wrk held to the rate of `script` over `connections` connections (enough that none waits on another). */
export function wrkRate(core: string, url: string, seconds: number, script: string, connections = 16): LoadSample {
  const out = execFileSync("taskset", ["-c", core, "wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "-s", script, "--latency", url], { encoding: "utf8" });
  return parse(out);
}
