import { metrics } from '@opentelemetry/api'
import { type HistogramMetricData, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { METRIC_HTTP_SERVER_REQUEST_DURATION } from '@opentelemetry/semantic-conventions'

/** A reader the test pulls from, when it wants, instead of on a timer. */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface RegisteredMeters {
  /** the `http.server.request.duration` metric as collected now, if recorded at all */
  requestDuration(): Promise<HistogramMetricData | undefined>
  unregister(): Promise<void>
}

/** Registers a real SDK MeterProvider globally (after the gateway exists, where a test says so). */
export function registerMeterProvider(): RegisteredMeters {
  const reader = new PullReader()
  const provider = new MeterProvider({ readers: [reader] })
  metrics.setGlobalMeterProvider(provider)
  return {
    async requestDuration() {
      const { resourceMetrics } = await reader.collect()
      return resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .find((metric) => metric.descriptor.name === METRIC_HTTP_SERVER_REQUEST_DURATION) as
        | HistogramMetricData
        | undefined
    },
    async unregister() {
      metrics.disable()
      await provider.shutdown()
    },
  }
}
