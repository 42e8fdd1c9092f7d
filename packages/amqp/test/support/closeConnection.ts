import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'

const run = promisify(execFile)
const RABBITMQCTL = '/usr/sbin/rabbitmqctl'

export const rabbitmqctlMissing = existsSync(RABBITMQCTL) ? undefined : `${RABBITMQCTL} not installed`

/**
 * Makes the broker close the connections whose `connection_name` contains `name`, as a
 * network failure or an operator would: only those connections, never the broker. Resolves
 * with how many it closed.
 */
export async function closeConnectionsNamed(name: string): Promise<number> {
  const { stdout } = await run(RABBITMQCTL, [
    'list_connections',
    'pid',
    'client_properties',
    '-q',
    '--no-table-headers',
  ])
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${name}`))
    .map((line) => line.split('\t')[0]!)
  for (const pid of pids)
    await run(RABBITMQCTL, ['close_connection', pid, 'conduit test: simulated connection loss'])
  return pids.length
}
