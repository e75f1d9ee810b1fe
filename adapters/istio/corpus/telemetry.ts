/**
 * @module adapters/istio/corpus/telemetry
 * Istio's own examples (telemetry) as its documentation prints them: the reference pages
 * (generated from the istio/api proto comments) and the tasks and Bookinfo samples they use. Data for the
 * round-trip tests (`../roundtrip.test.ts`, `interop-tests/istio/roundtrip.test.ts`); `losses` lists the
 * fields a case is expected to report as lost.
 */
import type { CorpusCase } from "./case.ts";

export const telemetryCorpus: CorpusCase[] = [
  {
    name: "Telemetry reference: mesh-default",
    source: "https://istio.io/latest/docs/reference/config/telemetry/",
    yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  # no selector specified, applies to all workloads
  tracing:
  - randomSamplingPercentage: 10.00
`,
  },
  {
    name: "Telemetry reference: foo-tracing",
    source: "https://istio.io/latest/docs/reference/config/telemetry/",
    yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: foo-tracing
  namespace: bar
spec:
  selector:
    matchLabels:
      service.istio.io/canonical-name: foo
  tracing:
  - disableSpanReporting: true
`,
  },
  {
    name: "Telemetry reference: foo-tracing-alternate",
    source: "https://istio.io/latest/docs/reference/config/telemetry/",
    yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: foo-tracing-alternate
  namespace: baz
spec:
  selector:
    matchLabels:
      service.istio.io/canonical-name: foo
  tracing:
  - providers:
    - name: "zipkin-alternate"
    randomSamplingPercentage: 10.00
`,
  },
  {
    name: "Telemetry reference: mesh-default",
    source: "https://istio.io/latest/docs/reference/config/telemetry/",
    yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  # no selector specified, applies to all workloads
  tracing:
  - match:
      mode: CLIENT
    providers:
    - name: "zipkin"
`,
  },
  {
    name: "Telemetry reference: mesh-default",
    source: "https://istio.io/latest/docs/reference/config/telemetry/",
    yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  # no selector specified, applies to all workloads
  tracing:
  - randomSamplingPercentage: 10.00
    customTags:
      my_new_foo_tag:
        literal:
          value: "foo"
`,
  },
  {
    name: "Telemetry reference: mesh-default",
    source: "https://istio.io/latest/docs/reference/config/telemetry/",
    yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  # no selector specified, applies to all workloads
  metrics:
  - providers:
    - name: prometheus
    overrides:
    - match:
        metric: ALL_METRICS
        mode: SERVER
      disabled: true
`,
  },
  {
    name: "Telemetry reference: namespace-metrics",
    source: "https://istio.io/latest/docs/reference/config/telemetry/",
    yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: namespace-metrics
  namespace: foo
spec:
  # no selector specified, applies to all workloads in the namespace
  metrics:
  - providers:
    - name: prometheus
    overrides:
    # match clause left off matches all istio metrics, client and server
    - tagOverrides:
        request_method:
          value: "request.method"
        request_host:
          value: "request.host"
`,
  },
  {
    name: "Telemetry reference: remove-response-code",
    source: "https://istio.io/latest/docs/reference/config/telemetry/",
    yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: remove-response-code
  namespace: foo
spec:
  selector:
    matchLabels:
      service.istio.io/canonical-name: bar
  metrics:
  - providers:
    - name: prometheus
    overrides:
    - match:
        metric: REQUEST_COUNT
      tagOverrides:
        response_code:
          operation: REMOVE
    - match:
        metric: REQUEST_DURATION
      tagOverrides:
        response_code:
          operation: REMOVE
    - match:
        metric: REQUEST_SIZE
      tagOverrides:
        response_code:
          operation: REMOVE
    - match:
        metric: RESPONSE_SIZE
      tagOverrides:
        response_code:
          operation: REMOVE
`,
  },
  {
    name: "Telemetry reference: mesh-default",
    source: "https://istio.io/latest/docs/reference/config/telemetry/",
    yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  # no selector specified, applies to all workloads
  accessLogging:
  - providers:
    - name: envoy
    # By default, this turns on access logging (no need to set \`disabled: false\`).
    # Unspecified \`disabled\` will be treated as \`disabled: false\`, except in
    # cases where a parent configuration has marked as \`disabled: true\`. In
    # those cases, \`disabled: false\` must be set explicitly to override.
`,
  },
  {
    name: "Telemetry reference: namespace-no-log",
    source: "https://istio.io/latest/docs/reference/config/telemetry/",
    yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: namespace-no-log
  namespace: foo
spec:
  # no selector specified, applies to all workloads in the namespace
  accessLogging:
  - disabled: true
`,
  },
  {
    name: "Envoy access logs task: mesh-default",
    source: "https://istio.io/latest/docs/tasks/observability/logs/access-log/",
    yaml: `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  accessLogging:
    - providers:
      - name: envoy
`,
  },
];
