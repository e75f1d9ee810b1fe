// Apache Kafka in KRaft mode (one combined broker+controller), from Maven Central jars run with the
// system JDK. Installing writes a pom into the cache and copies the runtime jars to `libs/`; `start()`
// formats a fresh log directory with a random cluster id and starts a broker on free loopback ports.

import { randomBytes } from "node:crypto";
import { writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { versions } from "../versions.ts";
import { cacheRoot, freePorts, hasReadyMarker, peerDir, runLogged, spawnPeer, tmpDataDir, waitFor, writeReadyMarker } from "../lib.ts";
import type { Peer, PeerHandle, SpawnedProcess } from "../types.ts";
import { kafkaPom } from "./pom.ts";

const version = versions.kafka;
const dir = peerDir("kafka", version);
const libs = join(dir, "libs");
const classpath = `${libs}/*`;
const jvmArgs = ["-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-Djava.awt.headless=true", "-Dorg.slf4j.simpleLogger.showDateTime=true"];

export interface KafkaStartOptions {
  /** Extra or overriding server.properties entries. */
  properties?: Record<string, string | number | boolean>;
}

export interface KafkaHandle extends PeerHandle {
  /** `127.0.0.1:<port>` of the PLAINTEXT listener, for kafkajs `brokers`. */
  bootstrap: string;
  port: number;
  controllerPort: number;
  clusterId: string;
  dataDir: string;
  process: SpawnedProcess;
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function properties(entries: Record<string, string | number | boolean>): string {
  return Object.entries(entries).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

const kafka: Peer<KafkaHandle, KafkaStartOptions> = {
  name: "kafka",
  version,
  description: "Apache Kafka broker (KRaft, kafka_2.13 jars from Maven Central)",
  dir,
  diskHint: "55 MB libs + 70 MB Maven repository",
  async ready() {
    return hasReadyMarker(dir, [join(libs, `kafka_2.13-${version}.jar`), join(libs, `kafka-server-${version}.jar`)]);
  },
  async install(ctx) {
    await ctx.step("write pom.xml", async () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "pom.xml"), kafkaPom(version));
    });
    await ctx.step("mvn dependency:copy-dependencies", () =>
      runLogged("mvn", ["-q", "-B", `-Dmaven.repo.local=${join(cacheRoot(), "maven-repo")}`, "dependency:copy-dependencies",
        "-DoutputDirectory=libs", "-DincludeScope=runtime", "-DoverWriteReleases=true"], { cwd: dir, logPath: ctx.log }));
    await ctx.step("java -version", async () => {
      await runLogged("java", ["-version"], { logPath: ctx.log });
      writeReadyMarker(dir, { libs });
    });
  },
  async start(opts = {}) {
    const work = tmpDataDir("kafka");
    const dataDir = join(work, "data");
    const [port, controllerPort] = (await freePorts(2)) as [number, number];
    const clusterId = randomBytes(16).toString("base64url");
    const configPath = join(work, "server.properties");
    writeFileSync(configPath, properties({
      "process.roles": "broker,controller",
      "node.id": 1,
      "controller.quorum.voters": `1@127.0.0.1:${controllerPort}`,
      listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      "advertised.listeners": `PLAINTEXT://127.0.0.1:${port}`,
      "controller.listener.names": "CONTROLLER",
      "inter.broker.listener.name": "PLAINTEXT",
      "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      "log.dirs": dataDir,
      "num.partitions": 1,
      "offsets.topic.replication.factor": 1,
      "transaction.state.log.replication.factor": 1,
      "transaction.state.log.min.isr": 1,
      "share.coordinator.state.topic.replication.factor": 1,
      "share.coordinator.state.topic.min.isr": 1,
      "group.initial.rebalance.delay.ms": 0,
      ...opts.properties,
    }));
    const logPath = join(work, "kafka.log");
    await runLogged("java", [...jvmArgs, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", configPath],
      { cwd: work, logPath });
    const proc = spawnPeer("java", [...jvmArgs, "-cp", classpath, "kafka.Kafka", configPath], { cwd: work, logPath });
    try {
      await waitFor(async () => readFileSync(logPath, "utf8").includes("Kafka Server started") && (await tcpOpen(port)),
        { what: `kafka broker on 127.0.0.1:${port}`, logPath, process: proc, timeoutMs: 120_000, intervalMs: 500 });
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return { bootstrap: `127.0.0.1:${port}`, port, controllerPort, clusterId, dataDir, process: proc, logPath, stop: () => proc.stop() };
  },
};

export default kafka;
