// Reproduces, with plain nats.js and no Conduit, the loss behind the NATS bridge's declared
// `brokerCrashLoss` gap: acknowledged messages of an interest-retention stream that a durable
// consumer never receives after nats-server is killed with SIGKILL and started again.
//
//   node packages/nats/repro/interest-retention-crash.mjs [runs] [interest|limits] [cold|warm]
//
// Each run starts a private nats-server (a free port, a temporary store), creates a file stream
// with two durable consumers, `live` (a client acks everything) and `offline` (no client; `warm`
// lets it acknowledge one message first, `cold` leaves it untouched), publishes with 100 PubAcks
// awaited at a time, kills the server after 400 ms, restarts it on the same store, then reads
// everything the offline consumer gets. "lost" counts acknowledged messages it never gets. On
// nats-server 2.9.10 with two busy loops on a 2-core machine (this script and its first draft):
// interest + cold lost thousands in 6 of 44 runs, interest + warm 0 of 16, limits + cold 0 of 8.
// On a quiet machine it rarely shows (0 of 8).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const require = createRequire(new URL('../package.json', import.meta.url))
const { connect } = require('@nats-io/transport-node')
const { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } =
  require('@nats-io/jetstream')

const runs = Number(process.argv[2] ?? 10)
const retention = process.argv[3] === 'limits' ? RetentionPolicy.Limits : RetentionPolicy.Interest
const warm = process.argv[4] === 'warm'
const server = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const freePort = () =>
  new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
const accepts = (port) =>
  new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    socket.on('connect', () => resolve(socket.end() && true))
    socket.on('error', () => resolve(false))
  })
async function startServer(port, store) {
  const child = spawn(server, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], {
    stdio: 'ignore',
  })
  for (let attempt = 0; attempt < 250 && !(await accepts(port)); attempt++) await sleep(20)
  return child
}

async function run(index) {
  const port = await freePort()
  const store = mkdtempSync(join(tmpdir(), 'nats-interest-crash-'))
  let child = await startServer(port, store)
  const nc = await connect({ servers: `127.0.0.1:${port}`, maxReconnectAttempts: -1, reconnectTimeWait: 50 })
  try {
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: 'S', subjects: ['r.>'], retention, storage: StorageType.File })
    for (const name of ['live', 'offline'])
      await jsm.consumers.add('S', {
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
      })
    const js = jetstream(nc)
    if (warm) {
      await js.publish('r.x', 'warm-up')
      await (await (await js.consumers.get('S', 'offline')).next({ expires: 2_000 })).ackAck()
    }
    const live = await (await js.consumers.get('S', 'live')).consume({ callback: (msg) => msg.ack() })
    live.closed().catch(() => undefined)
    const acknowledged = new Set()
    let next = 0
    let publishing = true
    const publishers = Array.from({ length: 100 }, async () => {
      while (publishing) {
        const id = next++
        try {
          await js.publish('r.x', String(id), { timeout: 2_000 })
          acknowledged.add(id)
        } catch {
          // not acknowledged (the server was down): not counted
        }
      }
    })
    await sleep(400)
    child.kill('SIGKILL')
    await sleep(300)
    publishing = false
    child = await startServer(port, store)
    await Promise.all(publishers)
    await sleep(500)
    const stream = (await jsm.streams.info('S')).state
    const offlineState = await jsm.consumers.info('S', 'offline')
    const received = new Set()
    const offline = await js.consumers.get('S', 'offline')
    for (let taken = -1; taken !== 0; ) {
      taken = 0
      for await (const msg of await offline.fetch({ max_messages: 1_000, expires: 1_000 })) {
        if (msg.string() !== 'warm-up') received.add(Number(msg.string()))
        msg.ack()
        taken++
      }
    }
    const lost = [...acknowledged].filter((id) => !received.has(id))
    console.log(
      `run ${index}: ${acknowledged.size} acknowledged, the offline consumer got ${received.size}, lost ${lost.length}` +
        (lost.length > 0 ? ` (ids ${Math.min(...lost)}-${Math.max(...lost)})` : '') +
        `; after the restart: stream first_seq ${stream.first_seq}, offline ack floor ${offlineState.ack_floor.stream_seq}`,
    )
    await live.close().catch(() => undefined)
    return lost.length
  } finally {
    await nc.close().catch(() => undefined)
    child.kill('SIGKILL')
    rmSync(store, { recursive: true, force: true })
  }
}

let withLoss = 0
for (let index = 1; index <= runs; index++) if ((await run(index)) > 0) withLoss++
console.log(
  `${withLoss} of ${runs} runs lost acknowledged messages (${retention} retention, ${warm ? 'warm' : 'cold'} offline consumer)`,
)
