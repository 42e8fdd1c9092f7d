import type { ChannelModel } from 'amqplib'

interface MuxInternals {
  _readIncoming(): void
}

interface ConnectionInternals {
  stream?: { cork?(): void; uncork?(): void }
  muxer?: MuxInternals
}

/**
 * amqplib queues every frame per channel and a multiplexer writes them to the socket one
 * `write()` at a time, so each publish and each ack is its own syscall (a quarter of the CPU
 * time of a command round trip when profiled). Corking the socket around one multiplexer pass
 * turns everything written in that pass into a single `writev`. This reaches into amqplib
 * internals (`connection.muxer`, `connection.stream`), so it applies only when they look as
 * expected and otherwise leaves the connection as it is.
 */
export function coalesceSocketWrites(model: ChannelModel): boolean {
  const connection = (model as unknown as { connection?: ConnectionInternals }).connection
  const stream = connection?.stream
  const muxer = connection?.muxer
  if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return false
  if (typeof muxer?._readIncoming !== 'function') return false
  const readIncoming = muxer._readIncoming.bind(muxer)
  muxer._readIncoming = () => {
    stream.cork!()
    try {
      readIncoming()
    } finally {
      stream.uncork!()
    }
  }
  return true
}
