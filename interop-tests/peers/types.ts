// The peer contract for interop tests: every real outside system weft talks to (Consul, Istio, Kubernetes,
// Kafka, Prometheus, the OpenTelemetry Collector, Deno, workerd) is described by one `Peer` object that
// knows how to install itself into a cache outside the repo, whether it is installed, and how to start a
// private instance on loopback with free ports. The CLI, the interop runner and the suites share these types.

/** A running peer. `stop()` ends every process it started; `logPath` holds its output for failure messages. */
export interface PeerHandle {
  stop(): Promise<void>;
  logPath: string;
}

/** Given to `Peer.install`: `step` runs one labelled install step (shown in the progress display). */
export interface InstallContext {
  step(label: string, fn: () => Promise<void>): Promise<void>;
  /** The install log file; pass it as `logPath` to `runLogged`. */
  log: string;
}

/** One real outside system, pinned to a version and cached under `cacheRoot()`. */
export interface Peer<H extends PeerHandle = PeerHandle, O = unknown> {
  name: string;
  version: string;
  description: string;
  /** Install directory (binaries, jars, build files). */
  dir: string;
  /** Rough disk use once installed, for the README and `--list`. */
  diskHint?: string;
  /** Peers this one cannot start without (istiod needs the Kubernetes API server); installed with it. */
  needs?: string[];
  /** True when installed and usable; cheap, no side effects. */
  ready(): Promise<boolean>;
  install(ctx: InstallContext): Promise<void>;
  start(opts?: O): Promise<H>;
}

/** The handle returned by `spawnPeer`. */
export interface SpawnedProcess {
  pid: number;
  logPath: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** True while the process has not exited. */
  running(): boolean;
  stop(): Promise<void>;
}
