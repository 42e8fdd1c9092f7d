import { HandledError, MemoryBridge, MemoryBroker, type Service } from '@conduit/core'
import { createMemoryTransport, type Transport } from '@conduit/core/transport'
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda'
import { afterEach, describe, expect, it } from 'vitest'
import { createHttpHandler, type HttpHandler, type HttpHandlerOptions } from '../src/index.js'
import { bodyOf, fixture, headerOf, lambdaContext } from './support/lambda.js'
import { createMailerService, type MailerRecord, userService } from './support/services.js'

const auth: HttpHandlerOptions['auth'] = (request) => {
  const header = request.headers.get('authorization')
  if (header === 'Bearer letmein') return { principalId: 'admin-1', tenantId: 'acme' }
  if (header === 'Bearer blocked') throw new HandledError(403, 'Account blocked', undefined, 'FORBIDDEN')
  return undefined
}

/** An HTTP API (payload 2.0) request derived from the documented fixture. */
function httpApiRequest(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const event = fixture<APIGatewayProxyEventV2>('api-gateway-v2')
  const [rawPath, rawQueryString = ''] = path.split('?') as [string, string?]
  event.rawPath = rawPath
  event.rawQueryString = rawQueryString
  event.requestContext.http.method = method
  event.requestContext.http.path = rawPath
  delete event.headers['content-length']
  delete event.headers['x-correlation-id']
  Object.assign(event.headers, headers)
  event.body = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  if (event.body === undefined) delete event.headers['content-type']
  return event
}

describe('createHttpHandler', () => {
  const handlers: HttpHandler[] = []
  const open = (service: Service = userService, options: HttpHandlerOptions = {}) => {
    const handler = createHttpHandler(service, { auth, closeOnSigterm: false, ...options })
    handlers.push(handler)
    return handler
  }
  afterEach(async () => {
    await Promise.all(handlers.splice(0).map((handler) => handler.close()))
  })

  it('serves an API Gateway REST (v1) event and answers in its multi-value shape', async () => {
    const result = await open()(fixture<APIGatewayProxyEvent>('api-gateway-v1'), lambdaContext())
    expect(result.statusCode).toBe(201)
    expect(bodyOf(result)).toEqual({ userId: expect.stringMatching(/^user-/) })
    expect(result).toHaveProperty('multiValueHeaders')
    expect(headerOf(result, 'x-correlation-id')).toBe('rest-request-1')
    expect(headerOf(result, 'content-type')).toBe('application/json')
  })

  it('serves an HTTP API (v2) event', async () => {
    const result = await open()(fixture('api-gateway-v2'), lambdaContext())
    expect(result).toMatchObject({ statusCode: 201, isBase64Encoded: false })
    expect(bodyOf(result)).toEqual({ userId: expect.stringMatching(/^user-/) })
    expect(headerOf(result, 'x-correlation-id')).toBe('http-api-request-1')
  })

  it('serves a function URL event with a base64 body', async () => {
    const result = await open()(fixture('function-url'), lambdaContext())
    expect(result.statusCode).toBe(201)
    expect(bodyOf(result)).toEqual({ userId: expect.stringMatching(/^user-/) })
    expect(headerOf(result, 'x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('passes path and query values as the parameter', async () => {
    const result = await open()(httpApiRequest('GET', '/api/v1/user/users/u-7?verbose=true'), lambdaContext())
    expect(result.statusCode).toBe(200)
    expect(bodyOf(result)).toEqual({ userId: 'u-7', verbose: true })
  })

  it('strips a named stage from HTTP API paths', async () => {
    const event = fixture<APIGatewayProxyEventV2>('api-gateway-v2')
    event.requestContext.stage = 'prod'
    event.rawPath = '/prod/api/v1/user/users'
    expect((await open()(event, lambdaContext())).statusCode).toBe(201)
  })

  it('maps errors to the gateway statuses and bodies', async () => {
    const handler = open(userService, { bodyLimit: 200 })
    const context = lambdaContext()
    const notFound = await handler(httpApiRequest('GET', '/api/v1/user/users/nobody'), context)
    expect(notFound.statusCode).toBe(404)
    expect(bodyOf(notFound)).toMatchObject({ status: 404, code: 'NOT_FOUND', data: { userId: 'nobody' } })

    const invalid = await handler(
      httpApiRequest(
        'POST',
        '/api/v1/user/users',
        { name: 'Ada', email: 'not-an-email' },
        { 'content-type': 'application/json' },
      ),
      context,
    )
    expect(invalid.statusCode).toBe(400)
    expect(bodyOf(invalid)).toMatchObject({ code: 'VALIDATION_FAILED', data: { target: 'input' } })
    expect(bodyOf(invalid).data.issues[0].path).toEqual(['email'])

    const crashed = await handler(httpApiRequest('POST', '/api/v1/user/crash'), context)
    expect(crashed.statusCode).toBe(500)
    expect(bodyOf(crashed)).toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('correlation id'),
    })
    expect(crashed.body).not.toContain('hunter2')

    const noRoute = await handler(httpApiRequest('GET', '/api/v1/user/nowhere'), context)
    expect(noRoute.statusCode).toBe(404)
    expect(bodyOf(noRoute).code).toBe('ROUTE_NOT_FOUND')

    const text = await handler(
      httpApiRequest('POST', '/api/v1/user/users', 'name=Ada', { 'content-type': 'text/plain' }),
      context,
    )
    expect(text.statusCode).toBe(415)

    const large = await handler(
      httpApiRequest(
        'POST',
        '/api/v1/user/users',
        { name: 'x'.repeat(300), email: 'a@example.org' },
        {
          'content-type': 'application/json',
        },
      ),
      context,
    )
    expect(large.statusCode).toBe(413)
    expect(bodyOf(large)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', data: { limit: 200 } })
  })

  it('runs the auth hook for protected commands and passes the principal', async () => {
    const handler = open()
    const rename = (headers: Record<string, string>) =>
      handler(
        httpApiRequest(
          'PATCH',
          '/api/v1/user/users/u-1',
          { name: 'Ada' },
          {
            'content-type': 'application/json',
            ...headers,
          },
        ),
        lambdaContext(),
      )
    const anonymous = await rename({})
    expect(anonymous.statusCode).toBe(401)
    expect(headerOf(anonymous, 'www-authenticate')).toBe('Bearer')
    expect((await rename({ authorization: 'Bearer blocked' })).statusCode).toBe(403)
    const allowed = await rename({ authorization: 'Bearer letmein' })
    expect(allowed.statusCode).toBe(200)
    expect(bodyOf(allowed)).toEqual({ userId: 'u-1', name: 'Ada', by: 'admin-1' })
  })

  it('refuses at creation to serve protected commands without an auth hook', () => {
    expect(() => createHttpHandler(userService, { closeOnSigterm: false })).toThrow(/no auth is configured/)
  })

  it('serves the OpenAPI document, the docs page and the health endpoints', async () => {
    const handler = open(userService, { openapi: { title: 'User function' } })
    const openapi = await handler(httpApiRequest('GET', '/openapi.json'), lambdaContext())
    expect(openapi.statusCode).toBe(200)
    const document = bodyOf(openapi)
    expect(document.info.title).toBe('User function')
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/api/v1/user/users', '/api/v1/user/users/{userId}']),
    )
    const docs = await handler(httpApiRequest('GET', '/docs'), lambdaContext())
    expect(docs.statusCode).toBe(200)
    expect(docs.body).toContain('<html')
    expect((await handler(httpApiRequest('GET', '/healthz'), lambdaContext())).statusCode).toBe(200)
    const ready = await handler(httpApiRequest('GET', '/readyz'), lambdaContext())
    expect(ready.statusCode).toBe(200)
    expect(bodyOf(ready).checks.bridge).toEqual({ ready: true, detail: 'aws-lambda' })
  })

  it('bounds a command by the invocation: 504 before Lambda would cut it off', async () => {
    const started = performance.now()
    const result = await open()(httpApiRequest('POST', '/api/v1/user/slow'), lambdaContext(700))
    expect(result.statusCode).toBe(504)
    expect(bodyOf(result).code).toBe('TIMEOUT')
    expect(performance.now() - started).toBeLessThan(700)
  })

  it('starts the service once per container, even for concurrent first invocations', async () => {
    let instances = 0
    const counted: Service = {
      ...userService,
      getInstance: (bridge, options) => {
        instances++
        return userService.getInstance(bridge, options)
      },
    }
    const handler = open(counted)
    expect(handler.runtime.isInitialised).toBe(false)
    const results = await Promise.all([
      handler(fixture('api-gateway-v2'), lambdaContext()),
      handler(fixture('function-url'), lambdaContext()),
    ])
    await handler(fixture('api-gateway-v1'), lambdaContext())
    expect(results.map((result) => result.statusCode)).toEqual([201, 201])
    expect(instances).toBe(1)
    expect(handler.runtime.isInitialised).toBe(true)
  })

  it('answers 503 when the bridge cannot start, and starts on a later invocation', async () => {
    let attempts = 0
    const memory = createMemoryTransport(new MemoryBroker())
    const unreachableOnce: Transport = {
      ...memory,
      connect: async (host) => {
        if (++attempts === 1) throw new Error('broker unreachable')
        await memory.connect(host)
      },
    }
    const handler = open(userService, { outgoing: unreachableOnce })
    const first = await handler(fixture('api-gateway-v2'), lambdaContext())
    expect(first.statusCode).toBe(503)
    expect(bodyOf(first)).toMatchObject({ code: 'BRIDGE_UNAVAILABLE', correlationId: 'http-api-request-1' })
    expect((await handler(fixture('api-gateway-v2'), lambdaContext())).statusCode).toBe(201)
    expect(attempts).toBe(2)
  })

  it('sends what the handler emits through the given outgoing transport', async () => {
    const broker = new MemoryBroker()
    const bridge = new MemoryBridge({ broker })
    await bridge.start()
    const records: MailerRecord[] = []
    const mailer = await createMailerService(records).getInstance(bridge)
    await mailer.start()
    try {
      const outgoing = createMemoryTransport(broker)
      const result = await open(userService, { outgoing })(fixture('api-gateway-v2'), lambdaContext())
      const { userId } = bodyOf(result)
      await expect.poll(() => records.filter((r) => r.subscription === 'sendWelcome').length).toBe(1)
      expect(records.find((r) => r.subscription === 'sendWelcome')).toMatchObject({
        payload: { userId, name: 'Grace Hopper', email: 'grace@example.org' },
        correlationId: 'http-api-request-1',
        sender: { service: 'user', version: '1', name: 'registerUser' },
      })
    } finally {
      await mailer.stop()
      await bridge.stop()
    }
  })
})
