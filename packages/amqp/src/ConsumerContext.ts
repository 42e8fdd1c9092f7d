import type { Logger } from '@conduit/core'
import type { TransportHost } from '@conduit/core/transport'
import type { AmqpConnection } from './AmqpConnection.js'
import type { AmqpSession, TopologyRecord } from './AmqpSession.js'
import type { ResolvedAmqpOptions } from './options.js'
import type { AmqpTopology } from './topology.js'

/** What every consumer of one transport shares. */
export interface ConsumerContext {
  readonly connection: AmqpConnection<AmqpSession>
  readonly topology: AmqpTopology
  readonly record: TopologyRecord
  readonly options: ResolvedAmqpOptions
  readonly logger: Logger
  /** reportFailure for every ack, nack and copy the consumers could not do */
  readonly host: TransportHost
}
