import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { withBrokerChannel } from '@conduit/amqp/testing'
import type { EventBridge } from '@conduit/core'
import { registerNewUser } from '@conduit/example-monolith/user/definition'

const run = promisify(execFile)

/** Registers `count` users through `bridge`; resolves with their ids. */
export async function registerUsers(bridge: EventBridge, from: number, count: number): Promise<string[]> {
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      bridge.invoke(registerNewUser, { name: `user ${from + i}`, email: `user${from + i}@example.org` }),
    ),
  )
  return results.map((result) => result.userId)
}

/** Deletes every RabbitMQ queue and exchange whose name starts with `prefix.` (test cleanup). */
export async function deleteAmqpPrefix(prefix: string): Promise<void> {
  const names = async (kind: 'list_queues' | 'list_exchanges') =>
    (await run('rabbitmqctl', [kind, '-q', '--no-table-headers', 'name'])).stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((name) => name.startsWith(`${prefix}.`))
  const queues = await names('list_queues')
  const exchanges = await names('list_exchanges')
  await withBrokerChannel('amqp://guest:guest@127.0.0.1:5672', async (channel) => {
    for (const queue of queues) await channel.deleteQueue(queue)
    for (const exchange of exchanges) await channel.deleteExchange(exchange)
  })
}
