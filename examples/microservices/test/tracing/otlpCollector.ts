import { createServer, type Server } from 'node:http'

/** A span as the OTLP/HTTP JSON exporter sends it (ids in hex), with the process that sent it. */
export interface CollectedSpan {
  service: string
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number
  attributes: Record<string, unknown>
}

interface OtlpValue {
  stringValue?: string
  intValue?: string | number
  boolValue?: boolean
}

/**
 * A test fixture standing in for an OpenTelemetry Collector: it accepts OTLP/HTTP JSON on
 * POST /v1/traces (and answers anything else with 200, as for metrics) and keeps the spans.
 */
export class OtlpCollector {
  readonly spans: CollectedSpan[] = []

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpCollector> {
    const server = createServer()
    const collector = new OtlpCollector(server)
    server.on('request', (request, response) => {
      let body = ''
      request.on('data', (chunk) => {
        body += chunk
      })
      request.on('end', () => {
        if (request.url === '/v1/traces' && body !== '') collector.add(JSON.parse(body))
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return collector
  }

  get endpoint(): string {
    const address = this.server.address() as { port: number }
    return `http://127.0.0.1:${address.port}`
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private add(payload: {
    resourceSpans?: {
      resource?: { attributes?: { key: string; value: OtlpValue }[] }
      scopeSpans?: { spans?: Record<string, unknown>[] }[]
    }[]
  }): void {
    for (const resourceSpans of payload.resourceSpans ?? []) {
      const service = String(attributeValue(resourceSpans.resource?.attributes, 'service.name') ?? '')
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          const attributes = Object.fromEntries(
            ((span.attributes as { key: string; value: OtlpValue }[]) ?? []).map(({ key, value }) => [
              key,
              plain(value),
            ]),
          )
          this.spans.push({
            service,
            traceId: String(span.traceId),
            spanId: String(span.spanId),
            ...(span.parentSpanId ? { parentSpanId: String(span.parentSpanId) } : {}),
            name: String(span.name),
            kind: Number(span.kind),
            attributes,
          })
        }
      }
    }
  }
}

function plain(value: OtlpValue): unknown {
  return value.stringValue ?? (value.intValue === undefined ? value.boolValue : Number(value.intValue))
}

function attributeValue(attributes: { key: string; value: OtlpValue }[] | undefined, key: string): unknown {
  const found = attributes?.find((attribute) => attribute.key === key)
  return found ? plain(found.value) : undefined
}
