import { metrics, trace } from '@opentelemetry/api'
import type { Logger } from './logging.js'

interface Flushable {
  forceFlush(): Promise<void>
}

function isFlushable(candidate: unknown): candidate is Flushable {
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof (candidate as Partial<Flushable>).forceFlush === 'function'
  )
}

/**
 * The global tracer and meter providers that can flush. The tracer provider is reached through
 * the API's proxy (`getDelegate`); both are checked by shape, so the user's SDK copy and version
 * are the ones used.
 */
function flushableProviders(): { name: string; provider: Flushable }[] {
  const proxy = trace.getTracerProvider() as { getDelegate?: () => unknown }
  const tracerProvider = typeof proxy.getDelegate === 'function' ? proxy.getDelegate() : proxy
  const found: { name: string; provider: Flushable }[] = []
  if (isFlushable(tracerProvider)) found.push({ name: 'tracer provider', provider: tracerProvider })
  const meterProvider: unknown = metrics.getMeterProvider()
  if (isFlushable(meterProvider)) found.push({ name: 'meter provider', provider: meterProvider })
  return found
}

/**
 * Exports what an OpenTelemetry SDK still buffers (a batch span processor, a periodic metric
 * reader) before the process exits or a Lambda invocation returns (the environment may freeze
 * for good). Bounded by `timeoutMs`; a slow or failing exporter is logged, never thrown.
 * `whatHappensAnyway` finishes the timeout's log line ("the process exits without it").
 */
export async function flushTelemetry(
  timeoutMs: number,
  logger: Logger,
  whatHappensAnyway = 'continuing without it',
): Promise<void> {
  if (timeoutMs <= 0) return
  const providers = flushableProviders()
  if (providers.length === 0) return
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), timeoutMs)
  })
  const flushes = providers.map(({ name, provider }) =>
    Promise.resolve()
      .then(() => provider.forceFlush())
      .catch((error: unknown) => logger.warn({ err: error, provider: name }, 'telemetry flush failed')),
  )
  try {
    if ((await Promise.race([Promise.all(flushes), timedOut])) === 'timed out') {
      logger.warn({ timeoutMs }, `telemetry flush did not finish in time; ${whatHappensAnyway}`)
    }
  } finally {
    clearTimeout(timer)
  }
}
