import { defineService, type Logger, MemoryBridge } from '@conduit/core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { createUserService, userV1 } from '../test/support/services.js'
import { createGateway } from './gateway.js'

// Records what the gateway loads and reads, passing everything through.
const loaded = vi.hoisted(() => ({ zodToOpenApi: 0, files: [] as string[] }))
vi.mock('@asteasolutions/zod-to-openapi', async (importOriginal) => {
  loaded.zodToOpenApi += 1
  return importOriginal()
})
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>()
  const readFile = (...args: Parameters<typeof actual.readFile>) => {
    loaded.files.push(String(args[0]))
    return actual.readFile(...args)
  }
  return { ...actual, default: { ...actual, readFile }, readFile }
})

// What a Lambda function that only handles events (or only commands) needs: nothing of the
// OpenAPI generator or Swagger UI may be loaded before someone asks for them.
describe('the OpenAPI generator and the docs page assets load on first use', () => {
  const bridge = new MemoryBridge()
  let app: ReturnType<typeof createGateway>

  beforeAll(async () => {
    await bridge.start()
    await (await createUserService().getInstance(bridge)).start()
    app = createGateway({ services: [userV1], bridge, auth: { secret: 'a-secret-long-enough-for-hs256!!' } })
  })
  afterAll(() => bridge.stop())

  it('building the gateway and serving commands touches neither', async () => {
    expect((await app.request('/api/v1/user/users')).status).toBe(200)
    expect((await app.request('/healthz')).status).toBe(200)
    expect(loaded).toEqual({ zodToOpenApi: 0, files: [] })
  })

  it('the document loads the generator once, the page reads only its listed assets', async () => {
    const [first, second] = await Promise.all([app.request('/openapi.json'), app.request('/openapi.json')])
    expect(first.status).toBe(200)
    expect(await second.json()).toEqual(await first.json())
    expect(loaded).toEqual({ zodToOpenApi: 1, files: [] })

    expect((await app.request('/docs')).status).toBe(200)
    expect(loaded.files).toEqual([])
    expect((await app.request('/docs/swagger-ui.css')).status).toBe(200)
    expect((await app.request('/docs/swagger-ui.css')).status).toBe(200)
    expect((await app.request('/docs/package.json')).status).toBe(404)
    expect(loaded.files).toHaveLength(1)
    expect(loaded.files[0]).toMatch(/\/swagger-ui-dist\/swagger-ui\.css$/)
  })
})

describe('a document the generator cannot produce', () => {
  it('fails the request for it, not the gateway', async () => {
    const oddV1 = defineService({ name: 'odd', version: '1' })
    oddV1.command('read', {
      input: z.object({}).optional(),
      output: z.object({ value: z.custom<string>((value) => typeof value === 'string') }),
      http: { method: 'GET', path: '/value', public: true },
    })
    const lines: Record<string, any>[] = []
    const record = (fields: object, msg: string) => lines.push({ ...fields, msg })
    const logger = { error: record, warn: record, info: record, debug: record, child: () => logger }
    // started, so /healthz below reports the gateway, not a bridge that never ran
    const bridge = new MemoryBridge()
    await bridge.start()
    const app = createGateway({ services: [oddV1], bridge, logger: logger as unknown as Logger })

    const response = await app.request('/openapi.json')
    expect(response.status).toBe(500)
    expect(await response.json()).toMatchObject({ code: 'INTERNAL' })
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'request failed with an unhandled error',
        err: expect.objectContaining({
          name: 'DefinitionError',
          message: expect.stringMatching(/^Cannot generate the OpenAPI document/),
        }),
      }),
    )
    expect((await app.request('/healthz')).status).toBe(200)
    await bridge.stop()
  })
})
