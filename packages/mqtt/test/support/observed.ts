import { createDefaultLogger, type Logger } from '@conduit/core'
import { type Attributes, createNoopMeter, type Meter, metrics } from '@opentelemetry/api'

/** The action an event-loss report is logged and counted under (conduit.messaging.failures). */
export const LOSS_ACTION = 'deliver durable events (dropped by the broker)'

/** Counter additions by metric name, through a global MeterProvider of our own. */
export function recordCounters(): Map<string, { value: number; attributes: Attributes }[]> {
  const added = new Map<string, { value: number; attributes: Attributes }[]>()
  const noop = createNoopMeter()
  const meter: Meter = Object.assign(Object.create(noop) as Meter, {
    createCounter: (name: string) => ({
      add: (value: number, attributes: Attributes = {}) => {
        added.set(name, [...(added.get(name) ?? []), { value, attributes }])
      },
    }),
  })
  metrics.disable()
  metrics.setGlobalMeterProvider({ getMeter: () => meter })
  return added
}

export function recordLogs(): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = []
  const logger = createDefaultLogger(
    {},
    {
      level: 'info',
      destination: { write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) },
    },
  )
  return { lines, logger }
}

/** Fails when `logs` hold an event-loss report (logged at detection, before the record is stored). */
export function lossReports(logs: { lines: Record<string, unknown>[] }): Record<string, unknown>[] {
  return logs.lines.filter((line) => line.action === LOSS_ACTION)
}
