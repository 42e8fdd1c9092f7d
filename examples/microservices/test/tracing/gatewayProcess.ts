import { runGatewayProcess } from '@conduit/http'
import { bridgeFromEnvironment } from '@conduit/runner'
import { inventoryV1 } from './inventory.js'

await runGatewayProcess({
  services: [inventoryV1],
  bridge: await bridgeFromEnvironment(),
  port: Number(process.env.PORT),
  hostname: '127.0.0.1',
  shutdownDelayMs: 0,
})
