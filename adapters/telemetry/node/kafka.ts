/**
 * @module adapters/telemetry/node/kafka
 * The Kafka audit sink for Node: audit events as JSON messages on a topic, produced with kafkajs behind
 * the bounded batching queue of batch-sink.ts. The proxy's `send` is a synchronous push; when Kafka is
 * slow or down, events wait in the queue (up to `maxQueue`, then new ones are dropped and counted),
 * sends time out instead of hanging, and the producer is rebuilt and reconnected on the next attempt
 * after a backoff, so the proxy never blocks, never sees an exception, and delivery resumes by itself.
 * Messages are keyed by the first id of the event chain, so one request's events across hops land on
 * one partition, in order.
 */

import { Kafka, logLevel, type KafkaConfig, type Producer } from "kafkajs";
import type { AuditEvent, AuditSink } from "../audit.ts";
import { createBatchSink, type BatchSink, type BatchSinkOptions, type BatchTransport } from "../batch-sink.ts";

export interface KafkaAuditSinkOptions {
  brokers: string[];
  topic: string;
  clientId?: string;
  /** Extra kafkajs client settings (ssl, sasl, ...). */
  kafka?: Partial<KafkaConfig>;
  /** Queue and retry settings (see batch-sink.ts); defaults: 10,000 events, batches of 500, 50 ms linger. */
  queue?: Omit<BatchSinkOptions<{ key: string; value: string }>, "transport">;
  /** `acks` for produce requests (default -1: all in-sync replicas). */
  acks?: number;
  /** Receives kafkajs errors and send failures (default: ignored; counted in `stats`). */
  onError?(error: Error): void;
}

export interface KafkaAuditSink extends AuditSink {
  readonly stats: BatchSink<unknown>["stats"];
  flush(timeoutMs?: number): Promise<boolean>;
  /** Delivers what it can within `timeoutMs` (default 10 s), then disconnects. */
  close(timeoutMs?: number): Promise<void>;
}

/** The kafkajs transport: connects lazily, and rebuilds the producer after any failure. */
export function createKafkaTransport(options: KafkaAuditSinkOptions): BatchTransport<{ key: string; value: string }> {
  const kafka = new Kafka({
    clientId: options.clientId ?? "weft-audit",
    brokers: options.brokers,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    // Our queue retries with its own backoff; kafkajs gives up quickly so a send fails fast when Kafka is down.
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.NOTHING,
    ...options.kafka,
  });
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;

  function connect(): Promise<Producer> {
    if (producer) return Promise.resolve(producer);
    connecting ??= (async () => {
      const p = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1000 } });
      try {
        await p.connect();
      } catch (e) {
        await p.disconnect().catch(() => undefined);
        throw e;
      }
      producer = p;
      return p;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  async function reset(): Promise<void> {
    const p = producer;
    producer = undefined;
    await p?.disconnect().catch(() => undefined);
  }

  return {
    async send(batch) {
      try {
        const p = await connect();
        await p.send({ topic: options.topic, messages: batch, acks: options.acks ?? -1 });
      } catch (e) {
        await reset();
        throw e;
      }
    },
    reset,
    close: reset,
  };
}

/**
 * Creates a Kafka audit sink.
 * @example
 * const sink = createKafkaAuditSink({ brokers: ["127.0.0.1:9092"], topic: "weft-audit" });
 * sink.send(auditor.finish(start, done)); // never waits, never throws
 * await sink.close();                     // on shutdown: delivers what it can
 */
export function createKafkaAuditSink(options: KafkaAuditSinkOptions): KafkaAuditSink {
  const transport = createKafkaTransport(options);
  const queue = createBatchSink<{ key: string; value: string }>({
    ...options.queue,
    transport,
    onError: (e, n) => {
      options.queue?.onError?.(e, n);
      options.onError?.(e);
    },
  });
  return {
    stats: queue.stats,
    send(event: AuditEvent) {
      let value: string;
      try {
        value = JSON.stringify(event);
      } catch {
        return;
      }
      queue.push({ key: event.eventChain[0] ?? event.eventId, value });
    },
    flush: (timeoutMs) => queue.flush(timeoutMs),
    close: (timeoutMs?: number) => queue.close(timeoutMs),
  };
}
