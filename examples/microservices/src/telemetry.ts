// OpenTelemetry for a Conduit process, loaded before the app:
//   node --import tsx --import ./src/telemetry.ts src/user-process.ts
// Traces go over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318, e.g. an
// OpenTelemetry Collector, Jaeger or Tempo); metrics are served for Prometheus to scrape on
// PROMETHEUS_PORT (default 9464, path /metrics). OTEL_SERVICE_NAME names the process.
import { register } from 'node:module'

// ESM apps need the instrumentation hook registered before anything imports node:http, so
// that outgoing HTTP calls made inside a handler become child spans of the handler's span.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url)

const { NodeSDK } = await import('@opentelemetry/sdk-node')
const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus')
const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http')

const sdk = new NodeSDK({
  traceExporter: new OTLPTraceExporter(),
  metricReaders: [new PrometheusExporter({ port: Number(process.env.PROMETHEUS_PORT ?? 9464) })],
  instrumentations: [new HttpInstrumentation()],
})
sdk.start()

// @conduit/runner flushes the global providers before it exits; shutdown covers other exits.
process.once('beforeExit', () => void sdk.shutdown())
