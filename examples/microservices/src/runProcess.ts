import type { EventBridge, Service, ServiceInstance } from '@conduit/core'
import { createBridge } from './bridge.js'

/**
 * Runs the given services in this process on the bridge from CONDUIT_BRIDGE, until SIGINT or
 * SIGTERM; then stops them (each waits for its handlers in flight) and the bridge.
 */
export async function runServices(
  services: Service[],
): Promise<{ bridge: EventBridge; instances: ServiceInstance[] }> {
  const bridge = createBridge()
  await bridge.start()
  const instances: ServiceInstance[] = []
  for (const service of services) {
    const instance = await service.getInstance(bridge)
    await instance.start()
    instances.push(instance)
  }
  bridge.logger.info({ services: services.map((s) => s.definition.name), pid: process.pid }, 'process ready')
  const shutdown = async () => {
    for (const instance of instances) await instance.stop()
    await bridge.stop()
    process.exit(0)
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
  return { bridge, instances }
}
