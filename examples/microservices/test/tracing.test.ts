import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { deleteAmqpPrefix } from './support.js'
import { type CollectedSpan, OtlpCollector } from './tracing/otlpCollector.js'

// One HTTP request, two processes (the gateway and the inventory service), a real broker, and
// the real OpenTelemetry Node SDK in each process loaded by the example's src/telemetry.ts
// (OTLP/HTTP traces to a collector fixture, Prometheus metrics, HTTP auto-instrumentation).
// The trace must be one tree: the gateway's HTTP span at the root, the handler's own child span
// and the instrumented outgoing HTTP call it makes inside it.

const here = dirname(fileURLToPath(import.meta.url))
const exampleRoot = join(here, '..')
const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 }

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function startProcess(script: string, env: Record<string, string>): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', '--import', './src/telemetry.ts', join(here, 'tracing', script)],
    {
      cwd: exampleRoot,
      env: {
        ...process.env,
        CONDUIT_LOG_LEVEL: 'warn',
        CONDUIT_HEALTH_PORT: '0',
        CONDUIT_HEALTH_HOST: '127.0.0.1',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
}

const stopped = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })

describe.each(['nats', 'amqp', 'mqtt'] as const)(
  'one trace per HTTP request across two processes on %s',
  (bridge) => {
    const children: ChildProcess[] = []
    let collector: OtlpCollector | undefined
    let supplier: Server | undefined
    const prefix = `tracing_${randomUUID().slice(0, 8)}`

    afterEach(async () => {
      await Promise.all(children.splice(0).map(stopped))
      await collector?.close()
      await new Promise((resolve) => (supplier ? supplier.close(resolve) : resolve(undefined)))
      if (bridge === 'amqp') await deleteAmqpPrefix(prefix)
    }, 30_000)

    it('HTTP span at the root; send, process, the handler’s own span and its outgoing HTTP call under it', {
      timeout: 60_000,
    }, async () => {
      collector = await OtlpCollector.start()
      supplier = createServer((_request, response) => response.end('ok'))
      await new Promise<void>((resolve) => supplier!.listen(0, '127.0.0.1', resolve))
      const supplierUrl = `http://127.0.0.1:${(supplier.address() as { port: number }).port}/stock`
      const gatewayPort = await freePort()
      const common = {
        CONDUIT_BRIDGE: bridge,
        CONDUIT_PREFIX: prefix,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      }
      children.push(
        startProcess('serviceProcess.ts', {
          ...common,
          OTEL_SERVICE_NAME: 'inventory',
          SUPPLIER_URL: supplierUrl,
          PROMETHEUS_PORT: String(await freePort()),
        }),
        startProcess('gatewayProcess.ts', {
          ...common,
          OTEL_SERVICE_NAME: 'gateway',
          PORT: String(gatewayPort),
          PROMETHEUS_PORT: String(await freePort()),
        }),
      )

      // until both processes are up and the service answers through the broker
      let correlationId = ''
      await vi.waitFor(
        async () => {
          const response = await fetch(`http://127.0.0.1:${gatewayPort}/api/v1/inventory/stock`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ sku: 'A-1' }),
            signal: AbortSignal.timeout(5_000),
          })
          expect(response.status).toBe(200)
          expect(await response.json()).toEqual({ inStock: true })
          correlationId = response.headers.get('x-correlation-id') ?? ''
        },
        { timeout: 40_000, interval: 250 },
      )

      const send = () =>
        collector!.spans.find(
          (span) =>
            span.kind === SPAN_KIND.producer &&
            span.attributes['messaging.message.conversation_id'] === correlationId,
        )
      await vi.waitFor(() => expect(send()).toBeDefined(), { timeout: 15_000, interval: 100 })
      const traceId = send()!.traceId
      const inTrace = () => collector!.spans.filter((span) => span.traceId === traceId)
      const byName = (name: string) => inTrace().find((span) => span.name === name)
      // the outgoing call is the last span to end in the service process
      await vi.waitFor(() => expect(inTrace().some((span) => span.kind === SPAN_KIND.client)).toBe(true), {
        timeout: 15_000,
        interval: 100,
      })

      // the root is an HTTP server span in the gateway: the HTTP instrumentation's, with the
      // gateway's own route span as its child (or the gateway's alone, without instrumentation)
      const roots = inTrace().filter((span) => span.parentSpanId === undefined)
      expect(roots.map((span) => [span.service, span.kind])).toEqual([['gateway', SPAN_KIND.server]])
      const http = byName('POST /api/v1/inventory/stock')!
      expect([http.service, http.kind]).toEqual(['gateway', SPAN_KIND.server])
      expect(http === roots[0] || http.parentSpanId === roots[0]!.spanId).toBe(true)
      const sending = send()!
      const processing = inTrace().find((span) => span.kind === SPAN_KIND.consumer)!
      const own = byName('ask the supplier')!
      const outgoing = inTrace().find((span) => span.kind === SPAN_KIND.client)!
      const parentOf = (span: CollectedSpan) => span.parentSpanId
      expect(parentOf(sending)).toBe(http.spanId)
      expect(parentOf(processing)).toBe(sending.spanId)
      expect(parentOf(own)).toBe(processing.spanId)
      expect(parentOf(outgoing)).toBe(own.spanId)
      expect([sending.service, processing.service, own.service, outgoing.service]).toEqual([
        'gateway',
        'inventory',
        'inventory',
        'inventory',
      ])
      expect(processing.attributes['messaging.system']).toBe(bridge === 'amqp' ? 'rabbitmq' : bridge)
      expect(outgoing.attributes['http.request.method'] ?? outgoing.attributes['http.method']).toBe('GET')
    })
  },
)
