import { type EventBridge, MemoryBridge } from '@conduit/core'
import { loadModule } from './definitions.js'

export const BRIDGE_NAMES = ['memory', 'nats', 'amqp', 'mqtt', 'dapr'] as const
export type BridgeName = (typeof BRIDGE_NAMES)[number]

/**
 * A bridge to read names and capabilities from: constructing one does not connect. The broker
 * packages are optional peers, loaded only for the bridge asked for. Anything that is not a
 * bridge name is a module (path or `file:` URL) whose default export is an EventBridge or a
 * function returning one, for bridges configured in code or bridges of your own.
 */
export async function bridgeFor(nameOrModule: string, prefix: string | undefined): Promise<EventBridge> {
  const withPrefix = prefix === undefined ? {} : { prefix }
  switch (nameOrModule) {
    case 'memory':
      return new MemoryBridge()
    case 'nats': {
      const { NatsBridge } = await optionalPeer('@conduit/nats', () => import('@conduit/nats'))
      return new NatsBridge(withPrefix)
    }
    case 'amqp': {
      const { AmqpBridge } = await optionalPeer('@conduit/amqp', () => import('@conduit/amqp'))
      return new AmqpBridge(withPrefix)
    }
    case 'mqtt': {
      const { MqttBridge } = await optionalPeer('@conduit/mqtt', () => import('@conduit/mqtt'))
      return new MqttBridge(withPrefix)
    }
    case 'dapr': {
      const { DaprBridge } = await optionalPeer('@conduit/dapr', () => import('@conduit/dapr'))
      return new DaprBridge(prefix === undefined ? {} : { topicPrefix: prefix })
    }
    default:
      return bridgeFromModule(nameOrModule)
  }
}

async function optionalPeer<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (error) {
    const missing = (error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND'
    if (!missing || !String((error as Error).message).includes(name)) throw error
    throw new Error(`this bridge needs ${name}: install it next to @conduit/cli (npm install ${name})`)
  }
}

async function bridgeFromModule(specifier: string): Promise<EventBridge> {
  if (!/[/\\.]|^file:/.test(specifier)) {
    throw new Error(`unknown bridge ${specifier}: use ${BRIDGE_NAMES.join(', ')} or a module path`)
  }
  const exported = (await loadModule(specifier)).default
  const bridge = typeof exported === 'function' ? await exported() : exported
  if (typeof bridge !== 'object' || bridge === null || !('capabilities' in bridge)) {
    throw new Error(`${specifier}: the default export is not an EventBridge (or a function returning one)`)
  }
  return bridge as EventBridge
}
