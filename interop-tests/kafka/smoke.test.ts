// Smoke test for the Kafka peer: against a real KRaft broker, kafkajs creates a topic, produces a
// message and consumes it back from the beginning.

import { Kafka, logLevel, type Consumer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import kafka, { type KafkaHandle } from "../peers/kafka/peer.ts";
import { requirePeers } from "../peers/suite.ts";

const { ready } = await requirePeers(import.meta.url, kafka);

describe.skipIf(!ready)("kafka smoke", () => {
  let broker: KafkaHandle;
  let consumer: Consumer | undefined;
  beforeAll(async () => {
    broker = await kafka.start();
  });
  afterAll(async () => {
    await consumer?.disconnect();
    await broker?.stop();
  });

  it("creates a topic, produces and consumes a message with kafkajs", async () => {
    const client = new Kafka({ clientId: "weft-interop", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: "weft-audit", numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
    expect(await admin.listTopics()).toContain("weft-audit");
    await admin.disconnect();

    const producer = client.producer();
    await producer.connect();
    const [record] = await producer.send({ topic: "weft-audit", messages: [{ key: "event-1", value: JSON.stringify({ action: "allow" }) }] });
    expect(record?.errorCode).toBe(0);
    await producer.disconnect();

    consumer = client.consumer({ groupId: "weft-interop-smoke" });
    await consumer.connect();
    await consumer.subscribe({ topic: "weft-audit", fromBeginning: true });
    const received = await new Promise<{ key: string; value: string; partition: number }>((resolve) => {
      void consumer!.run({
        eachMessage: async ({ message, partition }) => {
          resolve({ key: message.key?.toString() ?? "", value: message.value?.toString() ?? "", partition });
        },
      });
    });
    expect(received).toEqual({ key: "event-1", value: '{"action":"allow"}', partition: 0 });
  });
});
