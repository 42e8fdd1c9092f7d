import { createDefaultLogger, type Logger } from '@conduit/core'
import { context, metrics, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base'

/**
 * The real OpenTelemetry SDK, registered globally as a function would set it up: spans go
 * through a batch processor and metrics through a periodic reader, both with an interval far
 * longer than any test, and the in-memory exporters record only what is exported. So what the
 * exporters hold when a handler's promise resolves is exactly what the handler flushed.
 */
export interface Telemetry {
  /** spans exported so far */
  spans(): ReadableSpan[]
  /** names of the metrics exported so far */
  metricNames(): string[]
  /** exports what is still buffered (spans a test ended itself), then forgets everything exported */
  reset(): Promise<void>
  /** flushes, shuts the providers down and unregisters them */
  close(): Promise<void>
}

export function installTelemetry(): Telemetry {
  const spanExporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(spanExporter, { scheduledDelayMillis: 600_000 })],
  })
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.DELTA)
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 600_000 })],
  })
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  trace.setGlobalTracerProvider(tracerProvider)
  metrics.setGlobalMeterProvider(meterProvider)
  return {
    spans: () => spanExporter.getFinishedSpans(),
    metricNames: () =>
      metricExporter
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics)
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.dataPoints.length > 0)
        .map((metric) => metric.descriptor.name),
    reset: async () => {
      await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()])
      spanExporter.reset()
      metricExporter.reset()
    },
    close: async () => {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()])
      trace.disable()
      metrics.disable()
      context.disable()
      propagation.disable()
    },
  }
}

/** The spans of `name`, by the order they ended. */
export function spansNamed(spans: ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((span) => span.name === name)
}

/** A default logger writing every level to `lines` (parsed), e.g. to check the fields of each line. */
export function capturingLogger(lines: Record<string, unknown>[]): Logger {
  return createDefaultLogger(
    {},
    { level: 'trace', destination: { write: (line) => lines.push(JSON.parse(line)) } },
  )
}
