import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addCommand,
  addService,
  addSubscription,
  type CreateOptions,
  createProject,
  ScaffoldError,
} from '../src/scaffold/index.js'
import { cliVersion } from '../src/scaffold/packageJson.js'
import { conduit } from './support.js'

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'conduit-scaffold-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

const quiet = () => {}
let count = 0
/** Creates a project in a new folder below the temp root, without installing. */
async function create(options: Partial<CreateOptions> = {}) {
  count += 1
  return createProject(
    {
      directory: `app-${count}`,
      bridge: 'memory',
      gateway: false,
      lambda: false,
      packageManager: 'npm',
      install: false,
      cwd: root,
      ...options,
    },
    quiet,
  )
}

/** Every file below `folder` with its text: what a refused run must leave as it was. */
async function snapshot(folder: string): Promise<Record<string, string>> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true })
  const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
  return Object.fromEntries(
    await Promise.all(files.map(async (file) => [relative(folder, file), await readFile(file, 'utf8')])),
  )
}

const read = (directory: string, path: string) => readFile(join(directory, path), 'utf8')

describe('conduit create', () => {
  it('writes a memory project: main, app, bridge, the user service with its tests, registries, README', async () => {
    const { directory, files } = await create({ directory: 'My App' })
    expect(files).toEqual([
      '.gitignore',
      'README.md',
      'package.json',
      'src/app.ts',
      'src/bridge.ts',
      'src/main.ts',
      'src/services/definitions.ts',
      'src/services/index.ts',
      'src/services/user/commands/registerNewUser.definition.ts',
      'src/services/user/commands/registerNewUser.handler.ts',
      'src/services/user/commands/registerNewUser.test.ts',
      'src/services/user/contract.ts',
      'src/services/user/definition.ts',
      'src/services/user/events.ts',
      'src/services/user/service.ts',
      'src/services/user/subscriptions/sendWelcomeMail.definition.ts',
      'src/services/user/subscriptions/sendWelcomeMail.handler.ts',
      'src/services/user/subscriptions/sendWelcomeMail.test.ts',
      'test/app.test.ts',
      'tsconfig.json',
      'vitest.config.ts',
    ])
    const manifest = JSON.parse(await read(directory, 'package.json'))
    expect(manifest.name).toBe('my-app')
    expect(Object.keys(manifest.scripts)).toEqual(['start', 'test', 'typecheck'])
    expect(manifest.dependencies).toEqual({
      '@conduit/core': `^${cliVersion()}`,
      '@opentelemetry/api': '^1.9.0',
      zod: '^4.1.0',
    })
    expect(Object.keys(manifest.devDependencies)).toEqual(['@types/node', 'tsx', 'typescript', 'vitest'])
    const tsconfig = JSON.parse(await read(directory, 'tsconfig.json'))
    expect(tsconfig.compilerOptions).toMatchObject({
      strict: true,
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
    })
    expect(await read(directory, 'src/bridge.ts')).toContain('new DefaultEventBridge()')
    expect(await read(directory, 'src/main.ts')).not.toContain('gateway')
    expect(await read(directory, 'src/services/user/service.ts')).toContain(
      'commands: [registerNewUserHandler],\n  subscriptions: [sendWelcomeMailHandler],',
    )
    expect(await read(directory, 'src/services/user/commands/registerNewUser.test.ts')).toContain(
      "from '@conduit/core/testing'",
    )
  })

  it('takes the broker URL from the environment with a loopback default, and adds gateway and Lambda', async () => {
    const { directory, files } = await create({ bridge: 'nats', gateway: true, lambda: true })
    expect(files).toEqual(
      expect.arrayContaining([
        'src/gateway.ts',
        'src/lambda/user-http.ts',
        'src/lambda/user-events.ts',
        'test/gateway.test.ts',
        'test/lambda.test.ts',
      ]),
    )
    expect(await read(directory, 'src/bridge.ts')).toContain(
      "new NatsBridge({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', ...options })",
    )
    expect(await read(directory, 'src/main.ts')).toContain('await serveHttp(app.eventBridge')
    const { dependencies } = JSON.parse(await read(directory, 'package.json'))
    expect(Object.keys(dependencies)).toEqual([
      '@conduit/aws-lambda',
      '@conduit/core',
      '@conduit/http',
      '@conduit/nats',
      '@opentelemetry/api',
      'zod',
    ])
  })

  it.each([
    ['amqp', "new AmqpBridge({ url: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'"],
    ['mqtt', "new MqttBridge({ url: process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883'"],
    ['dapr', 'daprHttpPort: options.daprHttpPort ?? Number(process.env.DAPR_HTTP_PORT ?? 3500)'],
  ] as const)('writes the %s bridge', async (bridge, line) => {
    const { directory, files } = await create({ bridge, gateway: true })
    expect(await read(directory, 'src/bridge.ts')).toContain(line)
    const manifest = JSON.parse(await read(directory, 'package.json'))
    expect(manifest.dependencies).toHaveProperty(`@conduit/${bridge}`)
    // Dapr's app server has port 3000: the gateway moves to 8080
    expect(await read(directory, 'src/main.ts')).toContain(`PORT ?? ${bridge === 'dapr' ? 8080 : 3000}`)
    // a Dapr project's tests run through the emulator of @conduit/dapr/testing (pub/sub on NATS)
    expect(files.includes('test/dapr.ts')).toBe(bridge === 'dapr')
    expect(Object.keys(manifest.devDependencies).filter((name) => name.startsWith('@nats-io/'))).toEqual(
      bridge === 'dapr' ? ['@nats-io/jetstream', '@nats-io/transport-node'] : [],
    )
  })

  it('runs every service of a Dapr project in one Dapr app, and its tests through the emulator', async () => {
    const { directory } = await create({ directory: 'shop', bridge: 'dapr', gateway: true })
    const bridge = await read(directory, 'src/bridge.ts')
    expect(bridge).toContain("export const APP_ID = process.env.APP_ID || 'shop'")
    expect(bridge).toContain('appIdOf: () => APP_ID')
    expect(await read(directory, 'test/dapr.ts')).toContain(
      "import { DaprEmulator } from '@conduit/dapr/testing'",
    )
    for (const test of ['test/app.test.ts', 'test/gateway.test.ts']) {
      expect(await read(directory, test)).toContain('await startDaprForTest(')
    }
    const readme = await read(directory, 'README.md')
    expect(readme).toContain('dapr run --app-id shop --app-port 3000 -- npm run test')
    expect(readme).toContain('It is not Dapr')
  })

  it('pins the @conduit packages to --conduit-version, and to tarballs with file:<folder>', async () => {
    const pinned = await create({ conduitVersion: '1.2.3', gateway: true })
    const { dependencies } = JSON.parse(await read(pinned.directory, 'package.json'))
    expect([dependencies['@conduit/core'], dependencies['@conduit/http']]).toEqual(['1.2.3', '1.2.3'])

    await expect(create({ conduitVersion: 'file:no-such-folder' })).rejects.toThrow(/no folder/)
  })

  it('refuses a folder that is not empty, and writes nothing', async () => {
    const folder = join(root, 'occupied')
    await mkdir(folder)
    await writeFile(join(folder, 'notes.txt'), 'mine')
    const refusal = create({ directory: 'occupied' })
    await expect(refusal).rejects.toBeInstanceOf(ScaffoldError)
    await expect(refusal).rejects.toThrow('occupied is not empty (1 entry); choose a new folder or empty it')
    expect(await snapshot(folder)).toEqual({ 'notes.txt': 'mine' })
  })

  it('refuses without prompts when no folder is named (exit code and message, no stack)', async () => {
    const run = await conduit('create', '--no-install')
    expect(run.code).not.toBe(0)
    expect(run.stderr).toContain('Name the folder to create: conduit create <directory>')
    expect(run.stderr).not.toContain('    at ')
  })
})

describe('conduit add', () => {
  it('adds a service, a command and a subscription, each wired into the registries', async () => {
    const { directory } = await create()
    await addService(directory, { name: 'order', version: '2' }, quiet)
    await addCommand(
      directory,
      { service: 'order', name: 'get-order', http: { method: 'GET', path: '/orders/:orderId' } },
      quiet,
    )
    await addSubscription(
      directory,
      { service: 'order', name: 'onUserRegistered', event: 'user.*', durable: true },
      quiet,
    )

    expect(await read(directory, 'src/services/order/definition.ts')).toContain(
      "export const orderV2 = defineService({\n  name: 'order',\n  version: '2',",
    )
    expect(await read(directory, 'src/services/index.ts')).toContain(
      'export const services: readonly Service[] = [orderV2Service, userV1Service]',
    )
    expect(await read(directory, 'src/services/definitions.ts')).toContain('= [orderV2, userV1]')
    const service = await read(directory, 'src/services/order/service.ts')
    expect(service).toContain("import { getOrderHandler } from './commands/get-order.handler.js'")
    expect(service).toContain('commands: [getOrderHandler],\n  subscriptions: [onUserRegisteredHandler],')
    const command = await read(directory, 'src/services/order/commands/get-order.definition.ts')
    expect(command).toContain("export const getOrder = orderV2.command('get-order', {")
    expect(command).toContain("http: { method: 'GET', path: '/orders/:orderId' }")
    expect(command).toContain('parameter: z.object({ orderId: z.string().min(1) })')
    const subscription = await read(
      directory,
      'src/services/order/subscriptions/onUserRegistered.definition.ts',
    )
    expect(subscription).toContain("event: 'user.*',")
    expect(subscription).toContain("delivery: 'durable',")
    for (const kind of ['commands/get-order', 'subscriptions/onUserRegistered']) {
      expect(await read(directory, `src/services/order/${kind}.test.ts`)).toContain(
        "from '@conduit/core/testing'",
      )
    }
    expect(await read(directory, 'src/services/order/contract.ts')).toContain(
      "export { onUserRegistered } from './subscriptions/onUserRegistered.definition.js'",
    )
  })

  it('gives a reserved word a suffix instead of refusing a name the runtime accepts', async () => {
    const { directory } = await create()
    await addCommand(directory, { service: 'user', name: 'delete' }, quiet)
    expect(await read(directory, 'src/services/user/commands/delete.definition.ts')).toContain(
      "export const deleteCommand = userV1.command('delete', {",
    )
  })

  it.each([
    [
      'the same command twice',
      (dir: string) => addCommand(dir, { service: 'user', name: 'registerNewUser' }, quiet),
      'Service "user" already declares "registerNewUser" (a command); nothing was changed',
    ],
    [
      'a subscription named like a command',
      (dir: string) => addSubscription(dir, { service: 'user', name: 'registerNewUser', event: 'x' }, quiet),
      'already declares "registerNewUser" (a command)',
    ],
    [
      'a name with the same identifier',
      (dir: string) => addCommand(dir, { service: 'user', name: 'register_new-user' }, quiet),
      'would be exported as registerNewUser',
    ],
    [
      'an existing service',
      (dir: string) => addService(dir, { name: 'user' }, quiet),
      'Service "user" already exists',
    ],
    [
      'an unknown service',
      (dir: string) => addCommand(dir, { service: 'billing', name: 'pay' }, quiet),
      'No service "billing"',
    ],
    [
      'a command name the runtime rejects',
      (dir: string) => addCommand(dir, { service: 'user', name: '1st' }, quiet),
      'Invalid command name "1st"',
    ],
    [
      'a service name the runtime rejects',
      (dir: string) => addService(dir, { name: 'a.b' }, quiet),
      'Invalid service name "a.b"',
    ],
    [
      'a version the runtime rejects',
      (dir: string) => addService(dir, { name: 'order', version: 'v 2' }, quiet),
      'Invalid version "v 2" for service order',
    ],
    [
      'an event pattern the runtime rejects',
      (dir: string) => addSubscription(dir, { service: 'user', name: 'x', event: 'a.#.b' }, quiet),
      'Invalid event pattern "a.#.b"',
    ],
    [
      'an http path without /',
      (dir: string) =>
        addCommand(dir, { service: 'user', name: 'x', http: { method: 'POST', path: 'x' } }, quiet),
      "Command user.x: http.path must start with '/'",
    ],
  ])('refuses %s and changes nothing', async (_case, add, message) => {
    const { directory } = await create()
    const before = await snapshot(directory)
    const refusal = add(directory)
    await expect(refusal).rejects.toBeInstanceOf(ScaffoldError)
    await expect(refusal).rejects.toThrow(message)
    expect(await snapshot(directory)).toEqual(before)
  })

  it('runs from the command line: --version reaches `add service`, a refusal exits non-zero', async () => {
    const { directory } = await create()
    const added = await conduit('add', 'service', 'billing', '--version', '3', '-C', directory)
    expect(added).toMatchObject({ code: 0, stderr: '' })
    expect(await read(directory, 'src/services/billing/definition.ts')).toContain("version: '3'")

    const again = await conduit('add', 'service', 'billing', '-C', directory)
    expect(again.code).not.toBe(0)
    expect(again.stderr).toContain('Service "billing" already exists')

    const badRoute = await conduit('add', 'command', 'billing', 'pay', '--http', 'SEND:/pay', '-C', directory)
    expect(badRoute.stderr).toContain('Invalid --http "SEND:/pay": use METHOD:/path')
  })
})
