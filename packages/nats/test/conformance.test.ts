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
      async injectRawCommand(address, bytes) {
        const { nc } = await connectAdmin()
        nc.publish(subjects.command(address), bytes)
        await nc.flush()
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
