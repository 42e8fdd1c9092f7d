import { describe, expect, it } from 'vitest'
import { createMemoryTransport } from '../memory/MemoryBridge.js'
import { MemoryBroker } from '../memory/MemoryBroker.js'
import type { DestinationTarget } from '../transport/port.js'
import { MessagingSpans } from './spans.js'

describe('MessagingSpans', () => {
  it('keeps its destination cache bounded: event names from the wire cannot grow it without end', () => {
    let asked = 0
    const transport = {
      ...createMemoryTransport(new MemoryBroker()),
      destinationName: (target: DestinationTarget) => {
        asked++
        return target.kind === 'event' ? `topic/${target.eventName}` : 'command'
      },
    }
    const spans = new MessagingSpans(transport)
    const first: DestinationTarget = { kind: 'event', eventName: 'order.0' }
    spans.metricAttributes(first, 'process')
    spans.metricAttributes(first, 'process')
    expect(asked).toBe(1) // cached
    for (let index = 1; index <= 5_000; index++)
      spans.metricAttributes({ kind: 'event', eventName: `order.${index}` }, 'process')
    asked = 0
    spans.metricAttributes(first, 'process')
    expect(asked).toBe(1) // evicted long ago: asked again
  })
})
