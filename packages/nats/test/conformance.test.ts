import { runBridgeConformance } from '@conduit/bridge-conformance'
import { jetstream } from '@nats-io/jetstream'
import { NatsBridge, NatsSubjects } from '../src/index.js'
import { NATS_URL, NatsAdmin, uniquePrefix } from './support.js'

// Each test gets its own prefix, so its subjects, queue groups, streams and consumers are its own.
runBridgeConformance({
  name: 'nats',
  async createNamespace() {
    const prefix = uniquePrefix('cf')
    const subjects = new NatsSubjects(prefix)
    let admin: NatsAdmin | undefined
    const connectAdmin = async () => {
      admin ??= await NatsAdmin.connect()
      return admin
    }
    return {
      createBridge: (options) => new NatsBridge({ ...options, servers: NATS_URL, prefix }),
      async injectRawCommand(address, bytes, replyTo) {
        const { nc } = await connectAdmin()
        nc.publish(subjects.command(address), bytes, replyTo === undefined ? undefined : { reply: replyTo })
        await nc.flush()
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
      async cleanup() {
        if (!admin) admin = await NatsAdmin.connect()
        await admin.deleteNamespace(prefix)
        await admin.close()
      },
    }
  },
})
