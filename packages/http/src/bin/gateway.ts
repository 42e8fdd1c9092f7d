#!/usr/bin/env node
/**
 * `conduit-gateway`: runs a gateway process from modules.
 *
 *   npx conduit-gateway --services ./dist/definitions.js --bridge ./dist/bridge.js --port 8080
 *
 * `--services` (repeatable): a module whose exports include service definitions.
 * `--bridge`: a module whose default export is an EventBridge or a function returning one
 * (default: an in-memory bridge, useful only to inspect the document).
 * Both take a path (relative to the working directory) or a `file:` URL, and are loaded with
 * `import()`: JavaScript runs with plain node; for TypeScript sources, start node with a loader
 * (`NODE_OPTIONS='--import tsx'`).
 * Auth from the environment: CONDUIT_JWT_SECRET (HS256) or CONDUIT_JWT_PUBLIC_KEY (RS256 PEM),
 * CONDUIT_JWT_ISSUER, CONDUIT_JWT_AUDIENCE. CONDUIT_CORS_ORIGIN enables CORS for that origin
 * (`*` for any); CONDUIT_SSE_EVENTS enables the event stream for that pattern;
 * CONDUIT_SHUTDOWN_DELAY_MS sets how long /readyz answers 503 before the listener closes.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { type EventBridge, MemoryBridge, type ServiceDefinition } from '@conduit/core'
import type { JwtAuthOptions } from '../auth.js'
import { runGatewayProcess } from '../process.js'

const USAGE = `Usage: conduit-gateway --services <module> [--services <module> ...] [options]

  --services <module>  a module exporting service definitions (repeatable)
  --bridge <module>    a module whose default export is an EventBridge, or a function
                       returning one (default: an in-memory bridge)
  --port <port>        default: $PORT or 3000
  --host <host>        default: $HOST or 0.0.0.0
  --prefix <prefix>    route prefix, default /api
  --public             endpoints without http.public are public too (publicByDefault)
  --help               this text

A module is a path (relative to the working directory) or a file: URL. TypeScript modules need
a loader: NODE_OPTIONS='--import tsx' conduit-gateway --services ./src/definitions.ts
Environment: CONDUIT_JWT_SECRET or CONDUIT_JWT_PUBLIC_KEY, CONDUIT_JWT_ISSUER,
CONDUIT_JWT_AUDIENCE, CONDUIT_CORS_ORIGIN, CONDUIT_SSE_EVENTS, CONDUIT_LOG_LEVEL,
CONDUIT_SHUTDOWN_DELAY_MS (ms /readyz answers 503 before the listener closes; default 5000).
`

function fail(message: string): never {
  process.stderr.write(`conduit-gateway: ${message}\n`)
  process.exit(2)
}

function parseCommandLine() {
  try {
    return parseArgs({
      options: {
        services: { type: 'string', multiple: true, default: [] },
        bridge: { type: 'string' },
        port: { type: 'string', default: process.env.PORT ?? '3000' },
        host: { type: 'string', default: process.env.HOST ?? '0.0.0.0' },
        prefix: { type: 'string', default: '/api' },
        public: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`)
  }
}

/** A `file:` URL as given, anything else a path from the working directory. */
function moduleUrl(specifier: string): string {
  return specifier.startsWith('file:') ? specifier : pathToFileURL(resolve(process.cwd(), specifier)).href
}

async function importModule(specifier: string): Promise<Record<string, unknown>> {
  try {
    return await import(moduleUrl(specifier))
  } catch (error) {
    const code = (error as { code?: unknown }).code
    const hint =
      code === 'ERR_UNKNOWN_FILE_EXTENSION'
        ? "\nnode cannot load it as it is: compile it to JavaScript, or start node with a loader (NODE_OPTIONS='--import tsx')"
        : ''
    fail(`cannot load ${specifier}: ${(error as Error).message}${hint}`)
  }
}

function isServiceDefinition(value: unknown): value is ServiceDefinition<any> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'service'
}

async function loadServices(modules: string[]): Promise<ServiceDefinition<any>[]> {
  const found = new Set<ServiceDefinition<any>>()
  for (const specifier of modules) {
    for (const value of Object.values(await importModule(specifier)))
      if (isServiceDefinition(value)) found.add(value)
  }
  return [...found]
}

async function loadBridge(specifier: string | undefined): Promise<EventBridge> {
  if (specifier === undefined) return new MemoryBridge()
  const exported = (await importModule(specifier)).default
  return typeof exported === 'function' ? await exported() : (exported as EventBridge)
}

function jwtFromEnvironment(): JwtAuthOptions | undefined {
  const { CONDUIT_JWT_SECRET, CONDUIT_JWT_PUBLIC_KEY, CONDUIT_JWT_ISSUER, CONDUIT_JWT_AUDIENCE } = process.env
  if (!CONDUIT_JWT_SECRET && !CONDUIT_JWT_PUBLIC_KEY) return undefined
  return {
    ...(CONDUIT_JWT_PUBLIC_KEY ? { publicKey: CONDUIT_JWT_PUBLIC_KEY } : { secret: CONDUIT_JWT_SECRET! }),
    ...(CONDUIT_JWT_ISSUER ? { issuer: CONDUIT_JWT_ISSUER } : {}),
    ...(CONDUIT_JWT_AUDIENCE ? { audience: CONDUIT_JWT_AUDIENCE } : {}),
  }
}

const values = parseCommandLine()
if (values.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}
const port = Number(values.port)
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`--port ${values.port} is not a port number`)

const shutdownDelay = process.env.CONDUIT_SHUTDOWN_DELAY_MS
const shutdownDelayMs = shutdownDelay === undefined ? undefined : Number(shutdownDelay)
if (shutdownDelayMs !== undefined && !(Number.isInteger(shutdownDelayMs) && shutdownDelayMs >= 0)) {
  fail(`CONDUIT_SHUTDOWN_DELAY_MS=${shutdownDelay} is not a number of milliseconds`)
}

const services = await loadServices(values.services)
if (services.length === 0) fail('no service definitions found; pass --services <module>')
const auth = jwtFromEnvironment()
const corsOrigin = process.env.CONDUIT_CORS_ORIGIN
const sseEvents = process.env.CONDUIT_SSE_EVENTS
await runGatewayProcess({
  services,
  bridge: await loadBridge(values.bridge),
  port,
  hostname: values.host,
  prefix: values.prefix,
  publicByDefault: values.public,
  ...(shutdownDelayMs === undefined ? {} : { shutdownDelayMs }),
  ...(auth ? { auth } : {}),
  ...(corsOrigin ? { cors: { origin: corsOrigin } } : {}),
  ...(sseEvents ? { sse: { eventPattern: sseEvents } } : {}),
})
