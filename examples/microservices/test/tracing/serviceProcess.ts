import { runServices } from '@conduit/runner'
import { inventoryService } from './inventory.js'

await runServices({ services: [inventoryService] })
