import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda'
import { afterEach, describe, expect, it } from 'vitest'
import { createEventHandler, createHttpHandler } from '../src/index.js'
import { greeterService } from './support/greeter.js'
import { fixture, lambdaContext } from './support/lambda.js'
import { capturingLogger } from './support/telemetry.js'

type Line = Record<string, unknown>

function greetRequest(body: string = JSON.stringify({ name: 'Ada' })): APIGatewayProxyEventV2 {
  const event = fixture<APIGatewayProxyEventV2>('api-gateway-v2')
  event.rawPath = '/api/v1/greeter/greet'
  event.requestContext.http.path = event.rawPath
  event.body = body
  delete event.headers['content-length']
  return event
}

describe('awsRequestId in every log line of an invocation', () => {
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
  })

  it("HTTP: the handler's ctx.logger, the gateway and the engine, each invocation with its own id", async () => {
    const lines: Line[] = []
    const http = createHttpHandler(greeterService, {
      closeOnSigterm: false,
      engine: { logger: capturingLogger(lines) },
    })
    closers.push(() => http.close())

    const first = lambdaContext()
    await http(greetRequest(), first)
    const firstLines = lines.splice(0)
    expect(firstLines.map((line) => line.msg)).toContain('greeting a caller')
    expect(firstLines.map((line) => line.msg)).toContain('service started') // the cold start's own lines
    expect(firstLines.filter((line) => line.awsRequestId !== first.awsRequestId)).toEqual([])

    const second = lambdaContext()
    const malformed = await http(greetRequest('{"name":'), second) // the gateway logs the refusal
    expect(malformed.statusCode).toBe(400)
    await http(greetRequest(), second)
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.filter((line) => line.awsRequestId !== second.awsRequestId)).toEqual([])
    lines.splice(0)

    // a callback made during an invocation (a client's socket, a timer) that runs after it
    // ended no longer claims its id
    const { bridge } = http.runtime
    const lateLine = new Promise<void>((resolve) => {
      void bridge.runInvocation(lambdaContext(), async () => {
        setTimeout(() => {
          bridge.logger.info('after the invocation')
          resolve()
        }, 10)
      })
    })
    await lateLine
    expect(lines).toEqual([expect.objectContaining({ msg: 'after the invocation' })])
    expect(lines[0]).not.toHaveProperty('awsRequestId')
  })

  it("SQS: the adapter's warning about a malformed record and the subscription's lines", async () => {
    const lines: Line[] = []
    const events = createEventHandler(greeterService, {
      closeOnSigterm: false,
      engine: { logger: capturingLogger(lines) },
    })
    closers.push(() => events.close())
    const event = fixture<SQSEvent>('sqs-traced')
    event.Records[2]!.body = 'not JSON {'
    const context = lambdaContext()
    const result = await events(event, context)
    expect(result.batchItemFailures).toHaveLength(1)
    const messages = lines.map((line) => line.msg)
    expect(messages).toContain('greeting a visitor')
    expect(messages).toContain('malformed record reported as failed')
    expect(lines.filter((line) => line.awsRequestId !== context.awsRequestId)).toEqual([])
  })

  it("a service's own logger and the gateway's logger get it too", async () => {
    const serviceLines: Line[] = []
    const gatewayLines: Line[] = []
    const http = createHttpHandler(greeterService, {
      closeOnSigterm: false,
      instance: { logger: capturingLogger(serviceLines) },
      logger: capturingLogger(gatewayLines),
    })
    closers.push(() => http.close())
    const context = lambdaContext()
    await http(greetRequest('{"name":'), context)
    await http(greetRequest(), context)
    expect(serviceLines.map((line) => line.msg)).toContain('greeting a caller')
    expect(gatewayLines.length).toBeGreaterThan(0)
    expect(
      [...serviceLines, ...gatewayLines].filter((line) => line.awsRequestId !== context.awsRequestId),
    ).toEqual([])
  })

  it('concurrent invocations (Lambda Managed Instances) keep their own ids', async () => {
    const lines: Line[] = []
    const http = createHttpHandler(greeterService, {
      closeOnSigterm: false,
      engine: { logger: capturingLogger(lines) },
    })
    closers.push(() => http.close())
    await http(greetRequest(), lambdaContext()) // warm: start-up lines out of the way
    lines.splice(0)
    const contexts = Array.from({ length: 5 }, () => lambdaContext())
    await Promise.all(contexts.map((context) => http(greetRequest(), context)))
    const greetings = lines.filter((line) => line.msg === 'greeting a caller')
    expect(greetings.map((line) => line.awsRequestId).sort()).toEqual(
      contexts.map((context) => context.awsRequestId).sort(),
    )
  })
})
