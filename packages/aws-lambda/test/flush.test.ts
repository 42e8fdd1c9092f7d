import { trace } from '@opentelemetry/api'
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createEventHandler, type EventHandler } from '../src/index.js'
import { greeterService } from './support/greeter.js'
import { lambdaContext } from './support/lambda.js'
import { capturingLogger } from './support/telemetry.js'

type ExportResult = { code: number; error?: Error }
const FAILED = 1 // ExportResultCode.FAILED of @opentelemetry/core

/** An exporter an exporting backend can make slow or failing. */
class TroubledExporter {
  mode: 'hang' | 'fail' = 'hang'
  export(_spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.mode === 'fail') done({ code: FAILED, error: new Error('collector refused the batch') })
    // 'hang': never answers, as an exporter stuck on an unreachable collector
  }
  async shutdown(): Promise<void> {}
}

describe('the flush before an invocation returns', () => {
  const exporter = new TroubledExporter()
  const provider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(exporter, { scheduledDelayMillis: 600_000, exportTimeoutMillis: 60_000 }),
    ],
  })
  const lines: Record<string, unknown>[] = []
  let handler: EventHandler

  beforeAll(() => {
    trace.setGlobalTracerProvider(provider)
    handler = createEventHandler(greeterService, {
      closeOnSigterm: false,
      flushTimeoutMs: 150,
      engine: { logger: capturingLogger(lines) },
    })
  })
  afterEach(() => {
    lines.splice(0)
  })
  afterAll(async () => {
    await handler.close()
    trace.disable()
  })

  it('is bounded: a hanging exporter delays the invocation by flushTimeoutMs, then is logged', async () => {
    exporter.mode = 'hang'
    const started = performance.now()
    await expect(handler({ Records: [] }, lambdaContext())).resolves.toEqual({ batchItemFailures: [] })
    const elapsed = performance.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(140)
    expect(elapsed).toBeLessThan(2_000)
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'telemetry flush did not finish in time; the invocation returns without it',
      }),
    )
  })

  it('never throws: a failing exporter is logged and the invocation answers', async () => {
    exporter.mode = 'fail'
    const context = lambdaContext()
    await expect(handler({ Records: [] }, context)).resolves.toEqual({ batchItemFailures: [] })
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'telemetry flush failed',
        provider: 'tracer provider',
        awsRequestId: context.awsRequestId,
      }),
    )
  })

  it('never runs past the invocation: with 60 ms left, the bound is what remains', async () => {
    exporter.mode = 'hang'
    const started = performance.now()
    await handler({ Records: [] }, lambdaContext(60))
    expect(performance.now() - started).toBeLessThan(140)
  })
})
