import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { PrivateNatsServer, runBridgeConformance, StallableRelay } from '@conduit/bridge-conformance'
import { jetstream } from '@nats-io/jetstream'
import { NatsBridge, NatsSubjects } from '../src/index.js'
import { NATS_URL, NatsAdmin, uniquePrefix } from './support.js'

// Each test gets its own prefix, so its subjects, queue groups, streams and consumers are its own.
runBridgeConformance({
  name: 'nats',
  // A private nats-server (JetStream, own store) the broker-fault group kills and restarts.
  brokerFaults: {
    startBroker: () => PrivateNatsServer.start(),
    bridgeModule: {
      path: fileURLToPath(new URL('../src/index.ts', import.meta.url)),
      exportName: 'NatsBridge',
    },
    // a short ack wait: a killed consumer's events come back after 2 s instead of the default 10 s
    bridgeOptions: (servers, prefix) => ({ servers, prefix, durable: { ackWaitMs: 2_000 } }),
    givingUp: { connection: { maxReconnectAttempts: 2, reconnectTimeWait: 200 } },
    defaultQueueLimit: {
      events: 1_000,
      source: "a JetStream consumer's max_ack_pending (1000 by default, and the bridge's default)",
    },
    emitWaitBoundMs: 5_000, // durable.publishTimeoutMs, default 5000
    // Reproduced without Conduit by packages/nats/repro/interest-retention-crash.mjs; the test's
    // offline group subscribes and stops before any event, as the repro's cold consumer does.
    brokerCrashLoss: {
      notApplicable:
        "nats-server 2.9.10 (Debian bookworm) can lose acknowledged events of an interest-retention stream across a SIGKILL: after the restart it brings back a durable consumer that had not acknowledged anything yet with its ack floor moved up and the stream's first messages removed, though that consumer never received them (reproduced with plain nats.js and no Conduit by packages/nats/repro/interest-retention-crash.mjs in 6 of 44 runs on a loaded machine; 0 of 16 once the consumer had acknowledged one message; 0 of 8 with limits retention). Here the offline group is such a consumer; it lost events in 1 of 5 loaded CI runs. A clean restart (SIGTERM) loses nothing",
    },
  },
  async createNamespace() {
    const prefix = uniquePrefix('cf')
    const subjects = new NatsSubjects(prefix)
    // Bridges connect through a relay, so that a test can stall their traffic to the server.
    const server = new URL(NATS_URL)
    const relay = await StallableRelay.start(server.hostname, Number(server.port || 4222))
    let admin: NatsAdmin | undefined
    const connectAdmin = async () => {
      admin ??= await NatsAdmin.connect()
      return admin
    }
    return {
      createBridge: (options) => new NatsBridge({ ...options, servers: relay.urlFor(NATS_URL), prefix }),
      async injectRawCommand(address, bytes, replyTo) {
        const { nc } = await connectAdmin()
        nc.publish(subjects.command(address), bytes, replyTo === undefined ? undefined : { reply: replyTo })
        await nc.flush()
      },
      // A plain NATS client asks, with a reply subject of the bridge's reply shape it listens on.
      async captureReply(address, bytes, timeoutMs) {
        const { nc } = await connectAdmin()
        const replyTo = `${subjects.replyInbox(`raw-capture-${randomUUID().slice(0, 8)}`)}.call-1`
        const subscription = nc.subscribe(replyTo, { max: 1, timeout: timeoutMs })
        nc.publish(subjects.command(address), bytes, { reply: replyTo })
        for await (const reply of subscription) return reply.data
        throw new Error(`no reply on ${replyTo}`)
      },
      replyAddresses: {
        // the shape of a bridge's reply subject, for an instance that does not exist
        valid: `${subjects.replyInbox('nobody-listens')}.call-1`,
        hostile: [
          `${subjects.replyInbox('victim')}.*`,
          `${subjects.replyInbox('victim')}.>`,
          `${prefix}.reply.a..b`,
          'elsewhere.inbox.x',
          `${prefix}.cmd.victim.v1.run`,
        ],
      },
      // nats.js drops the socket and dials again, like a network fault; the server stays up.
      async interruptConnection(bridge) {
        if (!(bridge instanceof NatsBridge) || !bridge.connection) throw new Error('not a started NatsBridge')
        await bridge.connection.reconnect()
      },
      async injectRawEvent(eventName, bytes) {
        const raw = await connectAdmin()
        const { nc } = raw
        const subject = subjects.event(eventName)
        // Into the event stream (confirmed) when durable subscriptions exist, and to core subscribers either way.
        if (await raw.streamExists(subjects.eventStream)) {
          await jetstream(nc).publish(subject, bytes)
        } else {
          nc.publish(subject, bytes)
          await nc.flush()
        }
      },
      // The dead-letter stream, read by subject with a plain JetStream client.
      async readRawDeadLetters(group) {
        const { jsm } = await connectAdmin()
        const letters: Uint8Array[] = []
        if (!(await (await connectAdmin()).streamExists(subjects.deadLetterStream))) return letters
        for (let seq = 1; ; ) {
          const stored = await jsm.direct.getMessage(subjects.deadLetterStream, {
            seq,
            next_by_subj: subjects.deadLetter(group),
          })
          if (stored === null) return letters
          letters.push(stored.data)
          seq = stored.seq + 1
        }
      },
      stallBroker: async () => relay.stall(),
      createBridgeWithPayloadLimit: {
        notApplicable:
          "the NATS bridge carries what the server's max_payload allows (1 MiB, the default, on the shared " +
          'server), and the suite never reconfigures the shared broker',
      },
      async cleanup() {
        await relay.close()
        if (!admin) admin = await NatsAdmin.connect()
        await admin.deleteNamespace(prefix)
        await admin.close()
      },
    }
  },
})
