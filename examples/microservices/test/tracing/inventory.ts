import { get } from 'node:http'
import { createService, defineService, handleCommand } from '@conduit/core'
import { z } from 'zod'

/** A command whose handler starts its own span and makes an outgoing HTTP call inside it. */
export const inventoryV1 = defineService({ name: 'inventory', version: '1' })
export const checkStock = inventoryV1.command('checkStock', {
  input: z.object({ sku: z.string() }),
  output: z.object({ inStock: z.boolean() }),
  http: { method: 'POST', path: '/stock', public: true },
})

function askSupplier(url: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      response.resume()
      response.on('end', () => resolve(response.statusCode === 200))
    }).on('error', reject)
  })
}

export const inventoryService = createService(inventoryV1, {
  commands: [
    handleCommand(checkStock, (_input, ctx) =>
      ctx.startActiveSpan('ask the supplier', async () => ({
        inStock: await askSupplier(process.env.SUPPLIER_URL ?? 'http://127.0.0.1:9'),
      })),
    ),
  ],
})
