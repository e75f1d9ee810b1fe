/**
 * @module proxy/node/telemetry-test-support
 * Helpers for the proxy telemetry tests: the samples of one metric in a Prometheus exposition, a scrape
 * of the admin `/stats/prometheus`, and a bounded wait for lines in a log file.
 */
import { existsSync, readFileSync } from "node:fs";
import type { TestProxy } from "./test-support.ts";

export type Series = { labels: Record<string, string>; value: number };

/** The samples of one metric name in a Prometheus text exposition. */
export function samples(text: string, metric: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${metric}{`)) continue;
    const end = line.lastIndexOf("} ");
    const labels: Record<string, string> = {};
    for (const m of line.slice(metric.length + 1, end).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    out.push({ labels, value: Number(line.slice(end + 2)) });
  }
  return out;
}

export async function scrape(proxy: TestProxy): Promise<string> {
  const a = proxy.server.adminAddress()!;
  return (await fetch(`http://127.0.0.1:${a.port}/stats/prometheus`)).text();
}

/** Waits (bounded) until the file has at least `n` lines; returns them parsed. */
export async function logLines(path: string, n: number): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 200; i++) {
    const lines = existsSync(path) ? readFileSync(path, "utf8").split("\n").filter((l) => l !== "") : [];
    if (lines.length >= n) return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${path}: fewer than ${n} lines`);
}
