import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import {
  addCommand,
  addService,
  addSubscription,
  type BridgeName,
  createProject,
} from '../src/scaffold/index.js'

// The pack test's approach (packtest/run.mjs): the packages as users get them, packed tarballs
// installed with plain npm into a project outside the workspace. PACKTEST_TARBALLS names a folder
// of tarballs packed already (CI's `check:packages --out`); otherwise the needed ones are packed.
const WORKSPACE = fileURLToPath(new URL('../../../', import.meta.url))
const NATS_URL = 'nats://127.0.0.1:4222'
const ALL_BRIDGES: BridgeName[] = ['memory', 'nats', 'amqp', 'mqtt', 'dapr']
// SCAFFOLD_E2E_BRIDGES=dapr,nats runs only those (for a quicker loop while changing one)
const BRIDGES = process.env.SCAFFOLD_E2E_BRIDGES
  ? ALL_BRIDGES.filter((bridge) => process.env.SCAFFOLD_E2E_BRIDGES!.split(',').includes(bridge))
  : ALL_BRIDGES

interface Ran {
  code: number | null
  output: string
  ms: number
}

/** Runs a program to completion, collecting its output; never throws. */
function run(command: string, args: string[], cwd: string, timeoutMs = 180_000): Promise<Ran> {
  // the child is a project of its own: none of this vitest's variables
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'NODE_OPTIONS'),
  )
  const begun = performance.now()
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...env, CI: '1', NO_COLOR: '1', FORCE_COLOR: '0', CONDUIT_LOG_LEVEL: 'silent', NATS_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output, ms: performance.now() - begun })
    })
  })
}

/** Fails with the end of the program's output when it did not exit 0. */
async function succeed(what: string, ran: Promise<Ran>): Promise<Ran> {
  const result = await ran
  if (result.code !== 0) {
    throw new Error(
      `${what} exited with ${result.code}:\n${result.output.trim().split('\n').slice(-40).join('\n')}`,
    )
  }
  return result
}

/** vitest's `Tests  6 passed (6)` line, as a number; 0 when absent. */
function passedTests(output: string): number {
  return Number(/Tests\s+(\d+) passed \(\1\)/.exec(output)?.[1] ?? 0)
}

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) })
    socket.setTimeout(2000)
    socket.on('connect', () => resolve(socket.end() && true))
    socket.on('timeout', () => resolve(socket.destroy() && false))
    socket.on('error', () => resolve(false))
  })
}

let root: string | undefined
// five projects' node_modules: deleting them took over 10 s (the default hook bound) on a loaded CI machine
afterAll(async () => {
  if (root && !process.env.SCAFFOLD_E2E_KEEP) await rm(root, { recursive: true, force: true })
}, 120_000)

describe('conduit create, from packed tarballs, outside the workspace', () => {
  it('memory, nats, amqp, mqtt and dapr projects install, type-check and pass their tests against their brokers (dapr: through the sidecar emulator of @conduit/dapr/testing), before and after `add`', {
    // packing (~90 s unless PACKTEST_TARBALLS) and five projects side by side (~145 s on 2 cores)
    timeout: 420_000,
  }, async () => {
    expect(await reachable(NATS_URL), `nothing listens at ${NATS_URL} (bash scripts/ensure-brokers.sh)`).toBe(
      true,
    )
    root = await mkdtemp(join(tmpdir(), 'conduit-scaffold-e2e-'))
    expect(relative(WORKSPACE, root).startsWith('..'), `${root} is inside the workspace`).toBe(true)

    let tarballs = process.env.PACKTEST_TARBALLS
    if (!tarballs) {
      tarballs = join(root, 'tarballs')
      await mkdir(tarballs)
      // `name...`: the package and the workspace packages it depends on
      const filters = [
        '@conduit/nats...',
        '@conduit/amqp...',
        '@conduit/mqtt...',
        '@conduit/dapr...',
        '@conduit/http...',
        '@conduit/aws-lambda...',
      ].flatMap((f) => ['--filter', f])
      const packed = await succeed(
        'pnpm pack',
        run(
          'npx',
          ['-y', 'pnpm@10', '-r', ...filters, 'pack', '--pack-destination', tarballs],
          WORKSPACE,
          300_000,
        ),
      )
      process.stdout.write(`scaffold e2e: packed in ${(packed.ms / 1000).toFixed(1)} s\n`)
    }

    const timings = await Promise.all(
      BRIDGES.map(async (bridge) => {
        const begun = performance.now()
        const { directory } = await createProject(
          {
            directory: `${bridge}-app`,
            cwd: root!,
            bridge,
            gateway: true,
            lambda: bridge === 'memory',
            packageManager: 'npm',
            install: false,
            conduitVersion: `file:${tarballs}`,
          },
          () => {},
        )
        const npm = (what: string, ...args: string[]) =>
          succeed(`${bridge}: npm ${args.join(' ')} (${what})`, run('npm', args, directory))
        await npm('install', 'install', '--no-audit', '--no-fund', '--prefer-offline')
        await npm('as created', 'run', 'typecheck')
        const tested = await npm('as created', 'test')
        const green = performance.now() - begun
        // the user service's command (2) and subscription (1) tests, the app, the gateway (+ Lambda)
        const created = 5 + (bridge === 'memory' ? 1 : 0)
        expect(passedTests(tested.output)).toBe(created)

        const quiet = () => {}
        await addCommand(
          directory,
          { service: 'user', name: 'renameUser', http: { method: 'PUT', path: '/users/:userId' } },
          quiet,
        )
        await addService(directory, { name: 'billing' }, quiet)
        await addCommand(
          directory,
          { service: 'billing', name: 'charge', http: { method: 'POST', path: '/charges' } },
          quiet,
        )
        await addSubscription(
          directory,
          { service: 'billing', name: 'openAccount', event: 'user.registered', durable: true },
          quiet,
        )
        await npm('after add', 'run', 'typecheck')
        const retested = await npm('after add', 'test')
        // renameUser and charge (2 each), openAccount (1)
        expect(passedTests(retested.output)).toBe(created + 5)
        return { bridge, green, total: performance.now() - begun }
      }),
    )
    for (const { bridge, green, total } of timings) {
      process.stdout.write(
        `scaffold e2e: ${bridge}: create to green tests ${(green / 1000).toFixed(1)} s; with add and the second run ${(total / 1000).toFixed(1)} s\n`,
      )
    }
  })
})
