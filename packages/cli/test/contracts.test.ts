import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Parser } from '@asyncapi/parser'
import { compileErrors, validate } from '@readme/openapi-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conduit, EXAMPLE_DEFINITIONS } from './support.js'

let folder: string
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'conduit-cli-'))
})
afterAll(async () => {
  await rm(folder, { recursive: true, force: true })
})

describe('conduit openapi', () => {
  it('writes the OpenAPI 3.1 document of the HTTP-bound commands, valid for @readme/openapi-parser', async () => {
    const file = join(folder, 'nested', 'openapi.json')
    const run = await conduit('openapi', ...EXAMPLE_DEFINITIONS, '-o', file, '--title', 'Example')
    expect(run).toMatchObject({ code: 0, stdout: '' })
    const document = JSON.parse(await readFile(file, 'utf8'))
    const result = await validate(structuredClone(document))
    if (!result.valid) throw new Error(compileErrors(result))
    expect(document.openapi).toBe('3.1.0')
    expect(document.info.title).toBe('Example')
    expect(Object.keys(document.paths).sort()).toEqual(['/api/v1/user/users', '/api/v1/user/users/{userId}'])
    expect(document.paths['/api/v1/user/users'].post.operationId).toBeTypeOf('string')
  })

  it('writes to stdout without -o, honouring the route prefix', async () => {
    const run = await conduit('openapi', ...EXAMPLE_DEFINITIONS, '--route-prefix', '/v')
    expect(run.code).toBe(0)
    expect(Object.keys(JSON.parse(run.stdout).paths)).toContain('/v/v1/user/users')
  })
})

describe('conduit asyncapi', () => {
  it.each([
    ['nats', [], 'conduit.evt.user.registered', 'conduit.cmd.user.v1.getUser'],
    ['amqp', ['--prefix', 'shop'], 'shop.events:user.registered', 'shop.cmd.user.v1.getUser'],
    ['mqtt', [], 'conduit/event/user/registered', 'conduit/cmd/user/1/getUser'],
  ])(
    'writes a valid AsyncAPI 3.0 document for --bridge %s with its real addresses',
    async (bridge, extra, event, command) => {
      const file = join(folder, `${bridge}.json`)
      const run = await conduit('asyncapi', ...EXAMPLE_DEFINITIONS, '--bridge', bridge, ...extra, '-o', file)
      expect(run.code, run.stderr).toBe(0)
      const parsed = await new Parser().parse(await readFile(file, 'utf8'))
      expect(parsed.diagnostics.filter((diagnostic) => diagnostic.severity === 0)).toEqual([])
      const addresses = parsed
        .document!.channels()
        .all()
        .map((channel) => channel.address())
      expect(addresses).toEqual(expect.arrayContaining([event, command]))
    },
  )

  it('refuses an unknown bridge with a message and exit code 2', async () => {
    const run = await conduit('asyncapi', ...EXAMPLE_DEFINITIONS, '--bridge', 'kafka')
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('unknown bridge kafka')
  })
})
