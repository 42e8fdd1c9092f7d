import { MemoryBroker } from '@conduit/core'
import { createMemoryTransport, type Transport } from '@conduit/core/transport'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
} from '@opentelemetry/semantic-conventions'
import {
  ATTR_AWS_LAMBDA_INVOKED_ARN,
  ATTR_CLOUD_ACCOUNT_ID,
  ATTR_CLOUD_PLATFORM,
  ATTR_CLOUD_PROVIDER,
  ATTR_CLOUD_REGION,
  ATTR_CLOUD_RESOURCE_ID,
  ATTR_FAAS_COLDSTART,
  ATTR_FAAS_INSTANCE,
  ATTR_FAAS_INVOCATION_ID,
  ATTR_FAAS_MAX_MEMORY,
  ATTR_FAAS_NAME,
  ATTR_FAAS_TRIGGER,
  ATTR_FAAS_VERSION,
  CLOUD_PLATFORM_VALUE_AWS_LAMBDA,
  CLOUD_PROVIDER_VALUE_AWS,
  FAAS_TRIGGER_VALUE_HTTP,
  FAAS_TRIGGER_VALUE_OTHER,
  FAAS_TRIGGER_VALUE_PUBSUB,
  FAAS_TRIGGER_VALUE_TIMER,
} from '@opentelemetry/semantic-conventions/incubating'
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createEventHandler, createHttpHandler, type LambdaContext } from '../src/index.js'
import { greeterService } from './support/greeter.js'
import { fixture, lambdaContext } from './support/lambda.js'
import { userService } from './support/services.js'
import { installTelemetry, type Telemetry } from './support/telemetry.js'

const invocationSpans = (spans: ReadableSpan[]) =>
  spans.filter((span) => span.attributes[ATTR_FAAS_TRIGGER] !== undefined)
const lastInvocationSpan = (spans: ReadableSpan[]) => invocationSpans(spans).at(-1)!

/** A context as Lambda passes it to version 7 of `greeter`, invoked through its `live` alias. */
function aliasContext(): LambdaContext {
  return {
    ...lambdaContext(30_000, 'greeter'),
    functionVersion: '7',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:210987654321:function:greeter:live',
    memoryLimitInMB: '1024',
    logStreamName: '2025/03/12/[7]2f399eb14537447da05ab2a2e39309de',
  }
}

function greetRequest(): APIGatewayProxyEventV2 {
  const event = fixture<APIGatewayProxyEventV2>('api-gateway-v2')
  event.rawPath = '/api/v1/greeter/greet'
  event.requestContext.http.path = event.rawPath
  event.body = JSON.stringify({ name: 'Ada' })
  delete event.headers['content-length']
  return event
}

describe('faas and cloud attributes of the invocation span', () => {
  let telemetry: Telemetry
  const closers: (() => Promise<void>)[] = []
  const track = <H extends { close(): Promise<void> }>(handler: H) => {
    closers.push(() => handler.close())
    return handler
  }

  beforeAll(() => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand')
    telemetry = installTelemetry()
  })
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
    await telemetry.reset()
  })
  afterAll(async () => {
    await telemetry.close()
    vi.unstubAllEnvs()
  })

  // First in this file, whose module graph is its own: these are the process's first invocations.
  it('faas.coldstart is true for the first invocation of the process only', async () => {
    const http = track(createHttpHandler(greeterService, { closeOnSigterm: false }))
    await http(greetRequest(), lambdaContext())
    await http(greetRequest(), lambdaContext())
    // another handler (its own runtime) in the same process is warm too
    await track(createEventHandler(greeterService, { closeOnSigterm: false }))(
      { Records: [] },
      lambdaContext(),
    )
    expect(invocationSpans(telemetry.spans()).map((span) => span.attributes[ATTR_FAAS_COLDSTART])).toEqual([
      true,
      false,
      false,
    ])
  })

  it('names each attribute as @opentelemetry/semantic-conventions does', async () => {
    const context = aliasContext()
    await track(createHttpHandler(greeterService, { closeOnSigterm: false }))(greetRequest(), context)
    const span = lastInvocationSpan(telemetry.spans())
    expect(span.name).toBe('greeter') // an HTTP API's $default route names nothing: the function does
    expect(span.kind).toBe(SpanKind.SERVER)
    expect(span.attributes).toMatchObject({
      [ATTR_FAAS_TRIGGER]: FAAS_TRIGGER_VALUE_HTTP,
      [ATTR_FAAS_INVOCATION_ID]: context.awsRequestId,
      [ATTR_FAAS_COLDSTART]: false,
      [ATTR_FAAS_NAME]: 'greeter',
      [ATTR_FAAS_VERSION]: '7',
      [ATTR_FAAS_INSTANCE]: '2025/03/12/[7]2f399eb14537447da05ab2a2e39309de',
      [ATTR_FAAS_MAX_MEMORY]: 1024 * 1024 * 1024,
      [ATTR_CLOUD_PROVIDER]: CLOUD_PROVIDER_VALUE_AWS,
      [ATTR_CLOUD_PLATFORM]: CLOUD_PLATFORM_VALUE_AWS_LAMBDA,
      [ATTR_CLOUD_REGION]: 'eu-west-1',
      [ATTR_CLOUD_ACCOUNT_ID]: '210987654321',
      // the alias is replaced by the version it resolved to
      [ATTR_CLOUD_RESOURCE_ID]: 'arn:aws:lambda:eu-west-1:210987654321:function:greeter:7',
      [ATTR_AWS_LAMBDA_INVOKED_ARN]: 'arn:aws:lambda:eu-west-1:210987654321:function:greeter:live',
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: 200,
    })
  })

  it('keeps an unqualified function ARN as the resource id', async () => {
    const context = lambdaContext(30_000, 'greeter')
    await track(createEventHandler(greeterService, { closeOnSigterm: false }))({ Records: [] }, context)
    expect(lastInvocationSpan(telemetry.spans()).attributes[ATTR_CLOUD_RESOURCE_ID]).toBe(
      context.invokedFunctionArn,
    )
  })

  it('names a REST API invocation after its resource, the API Gateway route', async () => {
    const http = track(createHttpHandler(userService, { closeOnSigterm: false, auth: () => undefined }))
    await http(fixture<APIGatewayProxyEvent>('api-gateway-v1'), lambdaContext())
    const span = lastInvocationSpan(telemetry.spans())
    expect(span.name).toBe('/{proxy+}')
    expect(span.attributes[ATTR_HTTP_ROUTE]).toBe('/{proxy+}')
  })

  it('sets faas.trigger by event source', async () => {
    const events = track(createEventHandler(greeterService, { closeOnSigterm: false }))
    const scheduled = { ...fixture('eventbridge'), source: 'aws.events', 'detail-type': 'Scheduled Event' }
    const cases = [
      [fixture('sqs-traced'), FAAS_TRIGGER_VALUE_PUBSUB],
      [fixture('sns'), FAAS_TRIGGER_VALUE_PUBSUB],
      [fixture('eventbridge'), FAAS_TRIGGER_VALUE_PUBSUB],
      [scheduled, FAAS_TRIGGER_VALUE_TIMER],
      [{ Records: [] }, FAAS_TRIGGER_VALUE_OTHER],
    ] as const
    for (const [event, trigger] of cases) {
      await events(event as never, lambdaContext()).catch(() => undefined) // an unnamed scheduled event fails
      expect(lastInvocationSpan(telemetry.spans()).attributes[ATTR_FAAS_TRIGGER]).toBe(trigger)
    }
    const sqsSpan = invocationSpans(telemetry.spans())[0]!
    expect(sqsSpan.attributes).toMatchObject({
      'messaging.system': 'aws_sqs',
      'messaging.batch.message_count': 3,
    })
  })

  it('an answer of 503 (the service could not start) marks the span failed', async () => {
    const unreachable: Transport = {
      ...createMemoryTransport(new MemoryBroker()),
      connect: async () => {
        throw new Error('broker unreachable')
      },
    }
    const http = track(createHttpHandler(greeterService, { closeOnSigterm: false, outgoing: unreachable }))
    expect((await http(greetRequest(), lambdaContext())).statusCode).toBe(503)
    const span = lastInvocationSpan(telemetry.spans())
    expect(span.status.code).toBe(SpanStatusCode.ERROR)
    expect(span.attributes).toMatchObject({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: 503, [ATTR_ERROR_TYPE]: '503' })
  })
})
