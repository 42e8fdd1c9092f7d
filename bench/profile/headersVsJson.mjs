// Is CloudEvents binary mode (metadata in the protocol's own headers, only the payload as JSON)
// cheaper than the JSON envelope? Times, per message, what each broker client library does with
// the same metadata as headers, against JSON.stringify / JSON.parse of the whole envelope.
// usage: node bench/profile/headersVsJson.mjs      (from the repository root, after install)
import { createRequire } from 'node:module'

const fromPackage = (name) => createRequire(new URL(`../../packages/${name}/package.json`, import.meta.url))
const { headers } = fromPackage('nats')('@nats-io/transport-node')
const mqttRequire = createRequire(fromPackage('mqtt').resolve('mqtt'))
const mqttPacket = mqttRequire('mqtt-packet')
// amqplib exports no subpaths: its codec is loaded by file, next to its resolved entry point
const amqpEntry = fromPackage('amqp').resolve('amqplib')
const amqpCodec = createRequire(amqpEntry)(`${amqpEntry.slice(0, amqpEntry.lastIndexOf('/'))}/lib/codec.js`)

const now = Date.now()
const envelope = {
  id: 'AbCdEfGhIjKl-1a2b',
  type: 'command',
  specVersion: '1',
  time: now,
  correlationId: 'AbCdEfGhIjKl-1a2b',
  sender: { instanceId: 'XyZxYzXyZxYz-1' },
  receiver: { service: 'account', version: '1', command: 'deposit' },
  deadline: now + 30_000,
  contentType: 'application/json',
  payload: { accountId: 'acc-42', amount: 100, note: 'benchmark' },
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
}
// the same metadata as CloudEvents-style headers
const metadata = {
  'ce-id': envelope.id,
  'ce-type': envelope.type,
  'ce-specversion': '1.0',
  'ce-time': String(envelope.time),
  'conduit-correlationid': envelope.correlationId,
  'conduit-sender': envelope.sender.instanceId,
  'conduit-receiver': 'account.v1.deposit',
  'conduit-deadline': String(envelope.deadline),
  traceparent: envelope.traceparent,
}
const payloadJson = JSON.stringify(envelope.payload)
const envelopeBytes = Buffer.from(JSON.stringify(envelope))

function time(name, work, count = 500_000) {
  for (let i = 0; i < count / 5; i++) work()
  const started = process.hrtime.bigint()
  for (let i = 0; i < count; i++) work()
  console.log(`${name}: ${Math.round(Number(process.hrtime.bigint() - started) / count)} ns`)
}

time('JSON envelope: stringify + Buffer.from', () => Buffer.from(JSON.stringify(envelope)))
time('JSON envelope: parse', () => JSON.parse(envelopeBytes.toString('utf8')))

const natsHeaders = () => {
  const h = headers()
  for (const key in metadata) h.set(key, metadata[key])
  return h
}
const natsEncoded = natsHeaders().encode()
const NatsHeaders = natsHeaders().constructor
time('nats.js headers: build + encode', () => natsHeaders().encode())
time('nats.js headers: decode + read each, + payload JSON.parse', () => {
  const h = NatsHeaders.decode(natsEncoded)
  for (const key in metadata) h.get(key)
  JSON.parse(payloadJson)
})

const mqttOptions = { protocolVersion: 5 }
const publish = {
  cmd: 'publish',
  topic: 'conduit/cmd/account/1/deposit',
  qos: 0,
  dup: false,
  retain: false,
}
const request = { responseTopic: 'conduit/reply/abc', correlationData: Buffer.from(envelope.id) }
const asProperties = {
  ...publish,
  payload: Buffer.from(payloadJson),
  properties: { ...request, userProperties: metadata },
}
const asJson = { ...publish, payload: envelopeBytes, properties: request }
const parseMqtt = (bytes) => {
  const parser = mqttPacket.parser(mqttOptions)
  let packet
  parser.on('packet', (received) => {
    packet = received
  })
  parser.parse(bytes)
  return packet
}
const mqttProperties = mqttPacket.generate(asProperties, mqttOptions)
const mqttJson = mqttPacket.generate(asJson, mqttOptions)
time('mqtt-packet, JSON envelope: stringify + generate', () =>
  mqttPacket.generate({ ...asJson, payload: Buffer.from(JSON.stringify(envelope)) }, mqttOptions),
)
time('mqtt-packet, user properties: generate', () => mqttPacket.generate(asProperties, mqttOptions))
time('mqtt-packet, JSON envelope: parse + JSON.parse', () =>
  JSON.parse(parseMqtt(mqttJson).payload.toString('utf8')),
)
time('mqtt-packet, user properties: parse + payload JSON.parse', () =>
  JSON.parse(parseMqtt(mqttProperties).payload.toString('utf8')),
)

const table = Buffer.alloc(4096)
const tableLength = amqpCodec.encodeTable(table, metadata, 0)
const tableBytes = Buffer.from(table.subarray(4, tableLength))
time('amqplib headers table: encode', () => amqpCodec.encodeTable(table, metadata, 0))
time('amqplib headers table: decode + payload JSON.parse', () => {
  amqpCodec.decodeFields(tableBytes)
  JSON.parse(payloadJson)
})
