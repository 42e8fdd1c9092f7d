import { execFileSync } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { compileErrors, validate } from '@readme/openapi-parser'
import createClient from 'openapi-fetch'
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { OpenApiDocument } from '../src/index.js'
import type { paths } from './generated/gatewayApi.js'
import { bearer, hs256Token, startTestGateway, type TestGateway } from './support/gateway.js'
import { readJson } from './support/http.js'

let gateway: TestGateway
let document: OpenApiDocument

const artifacts = new URL('../test-artifacts/openapi/', import.meta.url)
const committedTypes = new URL('./generated/gatewayApi.ts', import.meta.url)
const workspaceRoot = fileURLToPath(new URL('../../../', import.meta.url))

/** The committed file is in the repository's style, so it passes `biome check` like any other. */
function formatLikeTheRepository(source: string): string {
  return execFileSync(
    `${workspaceRoot}node_modules/.bin/biome`,
    ['format', '--stdin-file-path=packages/http/test/generated/gatewayApi.ts'],
    { cwd: workspaceRoot, input: source, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] },
  )
}

beforeAll(async () => {
  gateway = await startTestGateway()
  const response = await fetch(gateway.url('/openapi.json'))
  expect(response.headers.get('content-type')).toMatch(/application\/json/)
  document = await readJson(response)
  await mkdir(artifacts, { recursive: true })
  await writeFile(new URL('openapi.json', artifacts), JSON.stringify(document, null, 2))
})
afterAll(() => gateway.stop())

const operation = (path: string, method: string) => document.paths[path]![method] as Record<string, any>

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document according to @readme/openapi-parser', async () => {
    const result = await validate(structuredClone(document) as never)
    if (!result.valid) throw new Error(compileErrors(result))
    expect(result.specification).toBe('OpenAPI')
    expect(document.openapi).toBe('3.1.0')
    expect(document.info).toEqual({ title: 'Conduit test API', version: '1.0.0' })
  })

  it('has one operation per HTTP-bound command, with ids, tags and security', () => {
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
    )
    expect(operations.sort()).toEqual(
      [
        'POST /api/v1/user/users user_v1_registerUser',
        'GET /api/v1/user/users user_v1_listUsers',
        'GET /api/v1/user/users/{userId} user_v1_getUser',
        'DELETE /api/v1/user/users/{userId} user_v1_deleteUser',
        'GET /api/v1/user/me user_v1_whoAmI',
        'PUT /api/v1/user/echo user_v1_echo',
        'POST /api/v1/user/crash user_v1_crash',
        'GET /api/v1/user/bad-output user_v1_badOutput',
        'POST /api/v1/user/slow user_v1_slow',
        'POST /api/v1/billing/charges billing_v1_charge',
        'GET /api/events gateway_eventStream',
      ].sort(),
    )
    const register = operation('/api/v1/user/users', 'post')
    expect(register).toMatchObject({
      summary: 'Register a user',
      tags: ['user'],
      security: [{ bearerAuth: [] }],
    })
    expect(register.description).toBe('Registers a user and emits user.registered')
    expect(operation('/api/v1/user/users/{userId}', 'get').security).toEqual([])
    expect(operation('/api/v1/user/me', 'get').tags).toEqual(['session'])
    expect(document.tags!.map((tag) => tag.name).sort()).toEqual(['billing', 'events', 'session', 'user'])
    expect(document.components!.securitySchemes).toEqual({
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    })
  })

  it('documents path and query parameters, the request body and the responses from the zod schemas', () => {
    const get = operation('/api/v1/user/users/{userId}', 'get')
    expect(get.parameters).toEqual([
      { in: 'path', name: 'userId', required: true, schema: { type: 'string', minLength: 1 } },
    ])
    expect(get.requestBody).toBeUndefined()
    const list = operation('/api/v1/user/users', 'get')
    expect(
      list.parameters.map(
        (p: { in: string; name: string; required: boolean }) => `${p.in}:${p.name}:${p.required}`,
      ),
    ).toEqual(['query:limit:false', 'query:name:false'])
    const register = operation('/api/v1/user/users', 'post')
    expect(register.requestBody).toMatchObject({
      required: true,
      content: { 'application/json': { schema: { type: 'object', required: ['name', 'email'] } } },
    })
    expect(register.responses['201'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/User',
    })
    expect(Object.keys(register.responses).sort()).toEqual([
      '201',
      '400',
      '401',
      '403',
      '413',
      '415',
      '500',
      '503',
      '504',
      'default',
    ])
    expect(register.responses['400']).toEqual({ $ref: '#/components/responses/BadRequest' })
    const remove = operation('/api/v1/user/users/{userId}', 'delete')
    expect(remove.responses['204']).toEqual({ description: 'Done, no content' })
    expect(document.components!.schemas!.ErrorResponse).toMatchObject({
      required: ['status', 'code', 'message', 'retryable', 'correlationId'],
    })
  })
})

describe('a typed client generated from the document', () => {
  it('openapi-typescript output matches the committed types the client is compiled against', async () => {
    const generated = formatLikeTheRepository(
      COMMENT_HEADER + astToString(await openapiTS(structuredClone(document) as never)),
    )
    await writeFile(new URL('gatewayApi.ts', artifacts), generated)
    if (process.env.UPDATE_GENERATED === '1') await writeFile(committedTypes, generated)
    const committed = await readFile(committedTypes, 'utf8')
    // On a mismatch: UPDATE_GENERATED=1 npx vitest run --project http test/openapi.test.ts
    expect(committed).toBe(generated)
  })

  it('openapi-fetch calls the running gateway with typed requests and responses', async () => {
    const client = createClient<paths>({ baseUrl: gateway.served.url })
    const headers = bearer(await hs256Token())

    const created = await client.POST('/api/v1/user/users', {
      body: { name: 'Typed', email: 'typed@example.org' },
      headers,
    })
    expect(created.response.status).toBe(201)
    const userId: string = created.data!.userId
    expect(created.data).toEqual({ userId, name: 'Typed', email: 'typed@example.org' })

    const read = await client.GET('/api/v1/user/users/{userId}', { params: { path: { userId } } })
    expect(read.data?.email).toBe('typed@example.org')

    const list = await client.GET('/api/v1/user/users', { params: { query: { limit: 5 } } })
    expect(list.data?.users.map((user) => user.userId)).toContain(userId)

    const missing = await client.GET('/api/v1/user/users/{userId}', {
      params: { path: { userId: 'nobody' } },
    })
    expect(missing.response.status).toBe(404)
    expect(missing.error?.code).toBe('NOT_FOUND')

    const invalid = await client.POST('/api/v1/user/users', {
      // @ts-expect-error: the generated type requires `email`
      body: { name: 'no email' },
      headers,
    })
    expect(invalid.response.status).toBe(400)
  })
})
