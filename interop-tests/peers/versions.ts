// Pinned versions of every interop peer, in one place. Changing a version here makes `npm run peers`
// build the new one into its own cache directory (`<cache>/<name>/<version>/`); the old one stays until
// removed by hand. The README's peer table repeats these numbers.

export const versions = {
  /** Go module github.com/hashicorp/consul, built from the Go module proxy. */
  consul: "1.22.7",
  /**
   * github.com/hashicorp/consul/api for that build. Consul's own go.mod requires api v1.33.7 but builds
   * against its in-tree ./api (a `replace` that a dependent module ignores), whose ACL types gained
   * `TokenNameFormat` and `Name`; api v1.34.1 is the first published api with them.
   */
  consulApi: "1.34.1",
  /** Maven Central org.apache.kafka:kafka_2.13, run in KRaft mode with the system JDK. */
  kafka: "4.3.1",
  /** Debian bookworm package `prometheus` (upstream 2.42.0). */
  prometheus: "2.42.0+ds-5+deb12u1",
  /**
   * OpenTelemetry Collector built with go.opentelemetry.io/collector/cmd/builder. 0.163.0 and later
   * import go.opentelemetry.io/collector/internal/statusutil, which the module proxy here does not serve.
   */
  otelCollector: "0.162.0",
  /** npm devDependencies `deno` and `workerd`; the versions are whatever package-lock.json installs. */
} as const;
