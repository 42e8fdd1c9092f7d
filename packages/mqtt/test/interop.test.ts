import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { billingV1, billOrder, placeOrder, recorderService, type Seen, shopService } from './fixtures.js'
import { BROKER_URL, MqttWorld } from './support.js'

// Foreign clients: the mosquitto command-line tools, driven only by docs/bridges/mqtt.md
// ("Talking to Conduit from any MQTT client"): topics, the envelope JSON, MQTT 5 properties.

const run = promisify(execFile)
const { hostname: host, port } = new URL(BROKER_URL)
const broker = ['-h', host, '-p', port || '1883', '-V', 'mqttv5']

let world: MqttWorld
let subscriber: ChildProcess | undefined
afterEach(async () => {
  subscriber?.kill()
  await world.close()
}, 20_000)

/** An event envelope as the docs describe it, built by hand. */
function eventEnvelope(eventName: string, payload: unknown) {
  const id = randomUUID()
  return JSON.stringify({
    id,
    type: 'event',
    specVersion: '1',
    time: Date.now(),
    correlationId: id,
    sender: { instanceId: 'mosquitto_pub' },
    eventName,
    contentType: 'application/json',
    payload,
  })
}

describe('interop with plain MQTT clients (mosquitto_pub, mosquitto_sub, mosquitto_rr)', {
  timeout: 30_000,
}, () => {
  it('mosquitto_pub emits an event that a Conduit subscription receives', async () => {
    world = new MqttWorld()
    const seen: Seen[] = []
    await world.run(recorderService(billingV1, billOrder, 'A', seen), await world.bridge())
    const topic = `${world.prefix}/event/shop/order/placed`
    await run('mosquitto_pub', [
      ...broker,
      '-q',
      '1',
      '-t',
      topic,
      '-m',
      eventEnvelope('shop.order.placed', { orderId: 42 }),
    ])
    await expect.poll(() => seen.map((entry) => entry.orderId), { timeout: 5_000 }).toEqual([42])
  })

  it('mosquitto_sub receives the event a Conduit command emitted', async () => {
    world = new MqttWorld()
    await world.run(shopService('A'), await world.bridge())
    const client = await world.bridge()
    const topic = `${world.prefix}/event/shop/order/placed`
    // -d prints the SUBACK, so the test knows the subscription is in place before emitting;
    // stdbuf makes mosquitto_sub print lines as they come instead of at exit.
    const child = spawn('stdbuf', [
      '-oL',
      'mosquitto_sub',
      ...broker,
      '-d',
      '-q',
      '1',
      '-t',
      topic,
      '-C',
      '1',
      '-W',
      '15',
    ])
    subscriber = child
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    await expect.poll(() => output.includes('received SUBACK'), { timeout: 5_000 }).toBe(true)
    await client.invoke(placeOrder, { orderId: 7 })
    await exited // -C 1: it exits after printing the one event
    const line = output.split('\n').find((candidate) => candidate.startsWith('{'))
    const event = JSON.parse(line ?? 'null')
    expect(event).toMatchObject({
      type: 'event',
      specVersion: '1',
      eventName: 'shop.order.placed',
      contentType: 'application/json',
      payload: { orderId: 7 },
      sender: { service: 'shop', version: '1', name: 'placeOrder' },
    })
  })

  it('mosquitto_rr invokes a Conduit command with MQTT 5 request/response', async () => {
    world = new MqttWorld()
    await world.run(shopService('A'), await world.bridge())
    const correlationId = randomUUID()
    const command = JSON.stringify({
      id: randomUUID(),
      type: 'command',
      specVersion: '1',
      time: Date.now(),
      correlationId,
      sender: { instanceId: 'mosquitto_rr' },
      receiver: { service: 'shop', version: '1', command: 'placeOrder' },
      deadline: Date.now() + 10_000,
      contentType: 'application/json',
      payload: { orderId: 9 },
    })
    const { stdout } = await run('mosquitto_rr', [
      ...broker,
      '-q',
      '1',
      '-t',
      `${world.prefix}/cmd/shop/1/placeOrder`,
      '-e',
      `${world.prefix}/reply/mosquitto-rr-${correlationId}`,
      '-m',
      command,
      '-W',
      '10',
    ])
    expect(JSON.parse(stdout)).toMatchObject({
      type: 'response',
      correlationId,
      payload: { orderId: 9, handledBy: 'A' },
    })
  })
})
