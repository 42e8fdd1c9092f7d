/**
 * Runs a gateway process from modules:
 *
 *   node --import tsx packages/http/src/bin/gateway.ts \
 *     --services ./src/definitions.ts --bridge ./src/bridge.ts --port 8080
 *
 * `--services` (repeatable): a module whose exports include service definitions.
 * `--bridge`: a module whose default export is an EventBridge or a function returning one
 * (default: an in-memory bridge, useful only to inspect the document).
 * Auth from the environment: CONDUIT_JWT_SECRET (HS256) or CONDUIT_JWT_PUBLIC_KEY (RS256 PEM),
 * CONDUIT_JWT_ISSUER, CONDUIT_JWT_AUDIENCE. CONDUIT_CORS_ORIGIN enables CORS for that origin
 * (`*` for any); CONDUIT_SSE_EVENTS enables the event stream for that pattern.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { type EventBridge, MemoryBridge, type ServiceDefinition } from '@conduit/core'
import type { JwtAuthOptions } from '../auth.js'
import { runGatewayProcess } from '../process.js'

const { values } = parseArgs({
  options: {
    services: { type: 'string', multiple: true, default: [] },
    bridge: { type: 'string' },
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    host: { type: 'string', default: process.env.HOST ?? '0.0.0.0' },
    prefix: { type: 'string', default: '/api' },
    public: { type: 'boolean', default: false },
  },
})

const importModule = (specifier: string) => import(pathToFileURL(resolve(process.cwd(), specifier)).href)

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
  return typeof exported === 'function' ? await exported() : exported
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

const services = await loadServices(values.services)
if (services.length === 0) {
  process.stderr.write('conduit-gateway: no service definitions found; pass --services <module>\n')
  process.exit(2)
}
const auth = jwtFromEnvironment()
const corsOrigin = process.env.CONDUIT_CORS_ORIGIN
const sseEvents = process.env.CONDUIT_SSE_EVENTS
await runGatewayProcess({
  services,
  bridge: await loadBridge(values.bridge),
  port: Number(values.port),
  hostname: values.host,
  prefix: values.prefix,
  publicByDefault: values.public,
  ...(auth ? { auth } : {}),
  ...(corsOrigin ? { cors: { origin: corsOrigin } } : {}),
  ...(sseEvents ? { sse: { eventPattern: sseEvents } } : {}),
})
