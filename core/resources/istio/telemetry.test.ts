import { describe, expect, it } from "vitest";
import { errorsOf, lines, validateAll } from "./test-util.ts";

// Examples from istio.io: the Telemetry API reference page and the "Configure tracing using the
// Telemetry API", "Customizing Istio Metrics" and "Envoy Access Logs" tasks.
const DOCS_EXAMPLES = `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  tracing:
  - providers:
    - name: localtrace
    customTags:
      foo:
        literal:
          value: bar
    randomSamplingPercentage: 100
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  accessLogging:
    - providers:
      - name: envoy
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: namespace-metrics
spec:
  metrics:
  - providers:
    - name: prometheus
    overrides:
    - match:
        metric: REQUEST_COUNT
        mode: CLIENT_AND_SERVER
      tagOverrides:
        request_host:
          value: "request.host"
        response_code:
          operation: REMOVE
---
apiVersion: telemetry.istio.io/v1alpha1
kind: Telemetry
metadata:
  name: frontend-logging
  namespace: default
spec:
  selector:
    matchLabels:
      service.istio.io/canonical-name: frontend
  accessLogging:
  - providers:
    - name: otel
    filter:
      expression: response.code >= 400
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  tracing:
  - providers:
    - name: otel-tracing
    randomSamplingPercentage: 0.5
    customTags:
      my-env:
        environment:
          name: ENV_NAME
          defaultValue: unknown
      user:
        header:
          name: x-user
`;

const tel = (spec: string) => `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: t
  namespace: apps
spec:
${spec}`;

describe("Telemetry", () => {
  it("accepts the examples from Istio's documentation", () => {
    expect(lines(errorsOf(DOCS_EXAMPLES))).toEqual([]);
  });

  it("rejects a sampling percentage above 100 and an unknown metric", () => {
    const errors = errorsOf(tel(`  tracing:
  - randomSamplingPercentage: 150
  metrics:
  - overrides:
    - match: {metric: REQUEST_COUNTS}`));
    expect(errors.map((e) => e.path)).toEqual(["spec.tracing[0].randomSamplingPercentage", "spec.metrics[0].overrides[0].match.metric"]);
    expect(errors[1]!.message).toContain("ALL_METRICS, REQUEST_COUNT");
  });

  it("requires exactly one kind of custom tag", () => {
    const errors = errorsOf(tel(`  tracing:
  - customTags:
      both:
        literal: {value: a}
        header: {name: x-a}
      none: {}`));
    expect(errors.map((e) => e.path)).toEqual(["spec.tracing[0].customTags.both", "spec.tracing[0].customTags.none"]);
  });

  it("checks tag overrides against their operation", () => {
    const errors = errorsOf(tel(`  metrics:
  - overrides:
    - tagOverrides:
        a: {operation: REMOVE, value: x}
        b: {operation: UPSERT}`));
    expect(lines(errors)).toEqual([
      "spec.metrics[0].overrides[0].tagOverrides.a.value: tagOverrides.value may only be set when operation is UPSERT",
      "spec.metrics[0].overrides[0].tagOverrides.b: tagOverrides.value must be set when operation is UPSERT",
    ]);
  });

  it("rejects selector together with targetRefs, a string for a boolean, and a bad interval", () => {
    const errors = errorsOf(tel(`  selector: {matchLabels: {app: a}}
  targetRefs: [{kind: Service, name: a}]`));
    expect(errors.map((e) => e.path)).toEqual(["spec"]);
    const typed = errorsOf(tel(`  accessLogging:
  - disabled: "yes"
  metrics:
  - reportingInterval: 15`));
    expect(typed.map((e) => e.path)).toEqual(["spec.metrics[0].reportingInterval", "spec.accessLogging[0].disabled"]);
  });

  it("warns about several tracing providers without failing", () => {
    const diags = validateAll(tel(`  tracing:
  - providers: [{name: a}, {name: b}]`));
    expect(diags.map((d) => d.severity)).toEqual(["warning"]);
  });
});
