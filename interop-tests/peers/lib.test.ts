// Tests for the peer helpers that the interop suites rely on for isolation and cleanup: stopping a
// peer ends its whole process group, waiting fails fast with the log's tail, install commands report
// their output, and leftover processes of a session can be reaped.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePorts, reapSession, runLogged, sessionId, spawnPeer, tmpDataDir, waitFor } from "./lib.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function groupMembers(pgid: number): number[] {
  return readdirSync("/proc").filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(fields[2]) === pgid && fields[0] !== "Z";
    } catch {
      return false;
    }
  });
}

describe("peer helpers", () => {
  it("stop() ends the peer and the children it started", async () => {
    const logPath = join(tmpDataDir("lib-test"), "group.log");
    const proc = spawnPeer("sh", ["-c", "sleep 300 & sleep 300 & echo started; wait"], { logPath });
    await waitFor(async () => readFileSync(logPath, "utf8").includes("started") && groupMembers(proc.pid).length >= 3,
      { what: "shell and two sleeps", logPath });
    const members = groupMembers(proc.pid);
    await proc.stop();
    expect(proc.running()).toBe(false);
    await waitFor(async () => members.every((pid) => !alive(pid) || groupMembers(proc.pid).length === 0), { what: "group gone" });
    expect(groupMembers(proc.pid)).toEqual([]);
  });

  it("waitFor fails fast when the process exits, quoting its log", async () => {
    const logPath = join(tmpDataDir("lib-test"), "exit.log");
    const proc = spawnPeer("sh", ["-c", "echo boom-marker; exit 3"], { logPath });
    await expect(waitFor(async () => false, { what: "a server that dies", logPath, process: proc, timeoutMs: 60_000 }))
      .rejects.toThrow(/the process exited[\s\S]*boom-marker/);
    expect(await proc.exited).toBe(3);
  });

  it("runLogged rejects with the command's output", async () => {
    const logPath = join(tmpDataDir("lib-test"), "install.log");
    await expect(runLogged("sh", ["-c", "echo compile-error-xyz >&2; exit 2"], { logPath })).rejects.toThrow(/failed \(2\)[\s\S]*compile-error-xyz/);
    await runLogged("sh", ["-c", "echo ok-output"], { logPath });
    expect(readFileSync(logPath, "utf8")).toMatch(/\$ sh -c echo ok-output\nok-output\n/);
  });

  it("reapSession kills processes tagged with the session", async () => {
    const logPath = join(tmpDataDir("lib-test"), "reap.log");
    const session = `${sessionId}-reap-test`; // not the runner's own session, which tags this worker too
    const proc = spawnPeer("sleep", ["300"], { logPath, session });
    await waitFor(async () => readFileSync(`/proc/${proc.pid}/environ`, "latin1").includes(`WEFT_PEER_SESSION=${session}\0`), { what: "tagged env" });
    expect(reapSession(session)).toEqual([proc.pid]);
    expect(await proc.exited).toBe("SIGKILL");
  });

  it("freePorts returns distinct bindable ports", async () => {
    const ports = await freePorts(7);
    expect(new Set(ports).size).toBe(7);
    for (const p of ports) expect(p).toBeGreaterThan(0);
  });
});
