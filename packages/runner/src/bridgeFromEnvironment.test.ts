import { createDefaultLogger } from '@conduit/core'
import { describe, expect, it } from 'vitest'
import { bridgeFromEnvironment, createBridge, importBridgePackage } from './bridgeFromEnvironment.js'
import { ConfigurationError } from './environment.js'

const silent = createDefaultLogger({}, { level: 'silent' })

/** What node throws for an import of a package that is not installed. */
function notInstalled(packageName: string): Error {
  return Object.assign(
    new Error(`Cannot find package '${packageName}' imported from /app/node_modules/x.js`),
    {
      code: 'ERR_MODULE_NOT_FOUND',
    },
  )
}

describe('bridgeFromEnvironment', () => {
  it('builds the bridge CONDUIT_BRIDGE names, importing only its package', async () => {
    const imported: string[] = []
    const importer = async (name: string) => {
      imported.push(name)
      return import(name)
    }
    const bridge = await createBridge(
      { kind: 'mqtt', kindDefaulted: false, prefix: 'p1', url: 'mqtt://127.0.0.1:1' },
      { logger: silent },
      importer,
    )
    expect(bridge.name).toBe('mqtt')
    expect(imported).toEqual(['@conduit/mqtt'])
    expect((await bridgeFromEnvironment({ env: {}, logger: silent })).name).toBe('memory')
    expect((await bridgeFromEnvironment({ env: { CONDUIT_BRIDGE: 'nats' }, logger: silent })).name).toBe(
      'nats',
    )
  })

  it('a missing bridge package is a ConfigurationError naming the package to install', async () => {
    const error = await importBridgePackage('amqp', async (name) => {
      throw notInstalled(name)
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toBe(
      'invalid configuration: CONDUIT_BRIDGE=amqp needs the @conduit/amqp package, which is not installed: npm install @conduit/amqp',
    )
  })

  it('a package that fails to load for another reason keeps its own error', async () => {
    const missingDependency = notInstalled('amqplib')
    await expect(
      importBridgePackage('amqp', async () => {
        throw missingDependency
      }),
    ).rejects.toBe(missingDependency)
  })

  it('bad variables are one ConfigurationError', async () => {
    await expect(
      bridgeFromEnvironment({
        env: { CONDUIT_BRIDGE: 'nats', NATS_URL: 'http://x', CONDUIT_LOG_LEVEL: 'x' },
      }),
    ).rejects.toThrow(/NATS_URL="http:\/\/x" is not valid[\s\S]*CONDUIT_LOG_LEVEL="x" is not valid/)
  })
})
