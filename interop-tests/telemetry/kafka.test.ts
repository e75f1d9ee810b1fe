// weft's audit sink against a real Kafka broker: audit events produced through the Kafka sink are consumed
// back with kafkajs and carry Grey Matter's fields; then the broker is stopped mid-run: the proxy-facing
// `send` keeps returning at once without throwing, events queue up to the bound and the rest are counted
// as dropped; a new broker comes up at the same address and the queued events arrive there. The address
// stays the same through a small TCP relay in this test (the broker advertises the relay's port), since
// every broker the peer starts gets fresh ports.

import { Kafka, logLevel, type Consumer } from "kafkajs";
import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditor, originatorTokens, type AuditEvent } from "../../adapters/telemetry/audit.ts";
import { createKafkaAuditSink, type KafkaAuditSink } from "../../adapters/telemetry/node/kafka.ts";
import { waitFor } from "../peers/lib.ts";
import kafka, { type KafkaHandle } from "../peers/kafka/peer.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, kafka);

const TOPIC = "weft-audit";

/** A TCP relay from a fixed local port to whichever broker is current. */
function createRelay(): { server: Server; port: () => number; target: (port: number | undefined) => void } {
  let targetPort: number | undefined;
  const live = new Set<Socket>();
  const server = createServer((client) => {
    if (targetPort === undefined) return client.destroy();
    const upstream = connect({ host: "127.0.0.1", port: targetPort });
    live.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      live.delete(client);
      live.delete(upstream);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
    client.pipe(upstream).pipe(client);
  });
  return {
    server,
    port: () => (server.address() as AddressInfo).port,
    target(port) {
      targetPort = port;
      for (const s of live) s.destroy();
      live.clear();
    },
  };
}

async function consumeAll(bootstrap: string, groupId: string, want: (events: AuditEvent[]) => boolean): Promise<{ events: AuditEvent[]; keys: string[] }> {
  const client = new Kafka({ clientId: "weft-interop-audit-reader", brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const consumer: Consumer = client.consumer({ groupId });
  const events: AuditEvent[] = [];
  const keys: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        events.push(JSON.parse(message.value!.toString()) as AuditEvent);
        keys.push(message.key?.toString() ?? "");
      },
    });
    await waitFor(async () => want(events), { what: "audit events in kafka", timeoutMs: 60_000 });
  } finally {
    await consumer.disconnect();
  }
  return { events, keys };
}

describe.skipIf(!ready)("weft audit events through a real Kafka broker", () => {
  const relay = createRelay();
  let broker: KafkaHandle | undefined;
  let sink: KafkaAuditSink;
  const errors: string[] = [];
  const auditor = createAuditor({ topic: "reviews-prod", systemIp: "10.0.0.7" });

  function audit(i: number, method = "POST"): AuditEvent {
    const start = auditor.start((n) => (n === "x-event-chain" ? "edge-1" : undefined));
    return auditor.finish(start, {
      method, path: `/objects/${i}`, status: 201, forwardedFor: "203.0.113.9",
      requestHeaders: [["host", "reviews"], ["authorization", "Bearer t"], ["user_dn", "CN=alice,O=example"]],
      originators: originatorTokens({ userDn: "CN=alice,O=example", peer: "spiffe://cluster.local/ns/default/sa/productpage" }),
    });
  }

  async function startBroker(): Promise<KafkaHandle> {
    const b = await kafka.start({ properties: { "advertised.listeners": `PLAINTEXT://127.0.0.1:${relay.port()}` } });
    relay.target(b.port);
    return b;
  }

  beforeAll(async () => {
    await new Promise<void>((r) => relay.server.listen(0, "127.0.0.1", r));
    broker = await startBroker();
    sink = createKafkaAuditSink({
      brokers: [`127.0.0.1:${relay.port()}`], topic: TOPIC,
      queue: { maxQueue: 20, lingerMs: 20, sendTimeoutMs: 3000, backoff: { initialMs: 200, maxMs: 1000 } },
      onError: (e) => errors.push(e.message),
    });
  });

  afterAll(async () => {
    await sink?.close(2000);
    await broker?.stop();
    relay.target(undefined);
    await new Promise((r) => relay.server.close(r));
  });

  it("delivers audit events with Grey Matter's fields", async () => {
    const sent = [audit(1), audit(2, "GET"), audit(3, "DELETE")];
    for (const e of sent) sink.send(e);
    expect(await sink.flush(30_000)).toBe(true);
    const { events, keys } = await consumeAll(`127.0.0.1:${relay.port()}`, "audit-reader-1", (ev) => ev.length >= 3);
    expect(events.map((e) => e.eventId)).toEqual(sent.map((e) => e.eventId));
    expect(events[0]).toEqual(sent[0]);
    expect(events[0]).toMatchObject({
      schemaVersion: "1.0", eventType: "reviews-prod", systemIp: "10.0.0.7", xForwardedForIp: "203.0.113.9", action: "create",
      originatorToken: ["CN=alice,O=example"], payload: { isSuccessful: true, request: { endpoint: "/objects/1", headers: { authorization: "[redacted]" } } },
    });
    expect(events[0]!.eventChain).toEqual(["edge-1", events[0]!.eventId]);
    expect(events.map((e) => e.action)).toEqual(["create", "read", "delete"]);
    expect(keys).toEqual(["edge-1", "edge-1", "edge-1"]);
    expect(sink.stats).toMatchObject({ sent: 3, dropped: 0 });
  });

  it("neither blocks nor throws while Kafka is down, queues to its bound, and recovers when Kafka returns", async () => {
    await broker!.stop();
    broker = undefined;
    relay.target(undefined);

    const during: AuditEvent[] = [];
    for (let i = 0; i < 25; i++) {
      const e = audit(100 + i);
      during.push(e);
      // `send` returns void: a synchronous push, never a wait on the network.
      expect(sink.send(e)).toBeUndefined();
    }
    expect(sink.stats.dropped).toBe(5);
    await waitFor(async () => sink.stats.failedSends >= 2 && sink.stats.degraded, { what: "the sink to notice Kafka is down", timeoutMs: 60_000 });
    expect(sink.stats.queued).toBe(20);
    expect(errors.length).toBeGreaterThan(0);

    broker = await startBroker();
    await waitFor(async () => sink.stats.queued === 0 && !sink.stats.degraded, { what: "the queued events to reach the new broker", timeoutMs: 90_000 });
    expect(sink.stats).toMatchObject({ sent: 23, dropped: 5 });
    const { events } = await consumeAll(`127.0.0.1:${relay.port()}`, "audit-reader-2", (ev) => ev.length >= 20);
    expect(new Set(events.map((e) => e.eventId))).toEqual(new Set(during.slice(0, 20).map((e) => e.eventId)));
  }, 300_000);
});
