/**
 * The web page for real: the admin app on a real socket, loaded in headless Chromium (Debian's
 * `chromium`, installed with apt-get here when missing) through playwright-core. Asserts on the DOM,
 * on live refresh, on the token handling, and that the page runs under its CSP without errors; saves
 * a screenshot to a temp dir for a human to look at.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Service } from "../../core/ir/model.ts";
import { createTestControl, POLICY_YAML, TEST_TOKEN } from "../admin/test-fixtures.ts";
import { startAdminServer, type AdminServer } from "../node/admin-server.ts";

const CHROMIUM = "/usr/bin/chromium";

/** Installs Debian's chromium when missing; returns why it is unavailable, or undefined. */
function ensureChromium(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.getuid?.() !== 0) return `${CHROMIUM} is missing and this test is not root, so it cannot apt-get install chromium`;
  try {
    execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore", timeout: 300_000 });
    execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "ignore", timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  } catch (err) {
    return `apt-get install chromium failed: ${(err as Error).message}`;
  }
  return existsSync(CHROMIUM) ? undefined : `apt-get installed chromium but ${CHROMIUM} is still missing`;
}

const svc = (id: string, extra: Partial<Service> = {}): Service => ({ id, name: id.split("/")[1]!, namespace: id.split("/")[0]!, hosts: [`${id.split("/")[1]}.${id.split("/")[0]}.svc.cluster.local`], ports: [{ port: 8080, protocol: "http" }], ...extra });

let unavailable: string | undefined;
let browser: Browser | undefined;
let server: AdminServer | undefined;
let control: Awaited<ReturnType<typeof createTestControl>>;

beforeAll(async () => {
  unavailable = ensureChromium();
  if (unavailable) {
    console.warn(`\n!!! SKIPPING the UI browser test: ${unavailable}\n`);
    return;
  }
  control = await createTestControl();
  const now = Date.now();
  control.registry.setSource("files", {
    services: [svc("default/frontend"), svc("default/backend"), svc("default/payments")],
    workloads: [],
    endpoints: [
      { service: "default/frontend", port: 8080, endpoints: [{ address: "10.0.0.1", port: 8080, health: "healthy", identity: "spiffe://cluster.local/ns/default/sa/frontend" }] },
      { service: "default/backend", port: 8080, endpoints: [{ address: "10.0.0.2", port: 8080, health: "healthy", labels: { app: "backend" } }, { address: "10.0.0.3", port: 8080, health: "unhealthy", labels: { app: "backend" } }] },
      { service: "default/payments", port: 8080, endpoints: [{ address: "10.0.0.4", port: 8080, health: "healthy" }] },
    ],
  });
  control.mesh.set({ id: "sidecar~10.0.0.1~frontend", connectedSince: now - 120_000, acked: { CDS: "7", LDS: "7", RDS: "7" }, certificateExpiry: now + 20 * 3600_000, service: "default/frontend" });
  control.mesh.set({ id: "sidecar~10.0.0.2~backend", connectedSince: now - 30_000, acked: { CDS: "6" }, lastNack: { type: "LDS", message: "route_config_name rc-9 not found", at: now - 5_000 }, service: "default/backend" });
  const applied = await control.app.request("/v1/resources", { method: "POST", headers: { ...control.auth, "content-type": "application/yaml" }, body: POLICY_YAML });
  expect(applied.status).toBe(200);
  server = await startAdminServer(control.app, { host: "127.0.0.1", port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("control-plane web page in Chromium", () => {
  it("shows services, endpoint health, proxies with acked versions and NACKs, and the mesh graph; refreshes live", async (ctx) => {
    if (unavailable) return ctx.skip(`chromium unavailable: ${unavailable}`);
    const page = await browser!.newPage({ viewport: { width: 1280, height: 1100 } });
    const problems: string[] = [];
    page.on("console", (m) => void (m.type() === "error" && problems.push(m.text())));
    page.on("pageerror", (e) => void problems.push(e.message));
    await page.goto(`${server!.url}/ui#token=${TEST_TOKEN}`);
    await page.waitForSelector("body[data-loaded=true]", { timeout: 20_000 });

    expect(new URL(page.url()).hash).toBe(""); // the token leaves the address bar
    const services = await page.locator("#services").innerText();
    expect(services).toContain("default/backend");
    expect(services).toContain("backend.default.svc.cluster.local");
    expect(services).toMatch(/1\/2 healthy\s+1 unhealthy/);
    const endpoints = await page.locator("#endpoints").innerText();
    expect(endpoints).toMatch(/10\.0\.0\.3:8080\s+unhealthy/);
    const proxies = await page.locator("#proxies").innerText();
    expect(proxies).toContain("CDS 7, LDS 7, RDS 7");
    expect(proxies).toContain("route_config_name rc-9 not found");
    expect(proxies).toMatch(/in 20 h/);
    expect(await page.locator("#graph g[data-node]").count()).toBe(5);
    expect(await page.locator("#graph line").count()).toBe(3); // 2 serves + 1 allow (frontend → backend)
    expect(await page.locator("#graph g[data-node='service:default/payments'] text").textContent()).toBe("default/payments");
    expect(await page.locator("#status").innerText()).toMatch(/3 services · 2 proxies/);

    const dir = mkdtempSync(join(tmpdir(), "weft-ui-"));
    const shot = join(dir, "ui.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    console.log(`UI screenshot: ${shot}`);

    control.mesh.set({ id: "sidecar~10.0.0.4~payments", connectedSince: Date.now(), acked: { CDS: "8" }, service: "default/payments" });
    await page.waitForFunction(() => document.querySelector("#proxies")?.textContent?.includes("sidecar~10.0.0.4~payments"), undefined, { timeout: 20_000 });
    expect(await page.locator("#graph rect").count()).toBe(3);
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it("asks for the token when it is missing or refused", async (ctx) => {
    if (unavailable) return ctx.skip(`chromium unavailable: ${unavailable}`);
    const page = await browser!.newPage();
    await page.goto(`${server!.url}/ui#token=not-the-token`);
    await page.waitForSelector("#login:not([hidden])", { timeout: 20_000 });
    expect(await page.locator("#status").innerText()).toBe("the admin token was refused");
    await page.fill("#token", TEST_TOKEN);
    await page.click("button[type=submit]");
    await page.waitForSelector("body[data-loaded=true]", { timeout: 20_000 });
    expect(await page.locator("#login").isHidden()).toBe(true);
    expect(await page.locator("#services").innerText()).toContain("default/frontend");
    await page.close();
  }, 120_000);
});
