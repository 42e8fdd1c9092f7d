import type { Logger } from '@conduit/core'
import { metrics, trace } from '@opentelemetry/api'

/** How long the flush after each invocation may take, at most; see `flushTimeoutMs`. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 2_000
/** Kept back from the invocation's remaining time, so the flush never makes Lambda cut it off. */
export const FLUSH_MARGIN_MS = 50

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
 * Exports what the SDK still buffers (a batch span processor, a periodic metric reader) before
 * the invocation returns: Lambda freezes the environment as soon as it has, and may never thaw
 * it. Bounded by `timeoutMs`; a slow or failing exporter is logged, never thrown.
 */
export async function flushTelemetry(timeoutMs: number, logger: Logger): Promise<void> {
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
      logger.warn({ timeoutMs }, 'telemetry flush did not finish in time; the invocation returns without it')
    }
  } finally {
    clearTimeout(timer)
  }
}
