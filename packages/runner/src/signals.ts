import { constants } from 'node:os'
import type { Logger } from '@conduit/core'

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const

/**
 * Calls `onFirst` on the first SIGTERM or SIGINT. Any later one exits at once with the usual
 * 128 + signal number (143 for SIGTERM, 130 for SIGINT): an operator pressing Ctrl+C twice, or
 * an orchestrator that lost patience, is not kept waiting for the drain. Returns the function
 * that removes the listeners.
 */
export function onShutdownSignal(logger: Logger, onFirst: (signal: NodeJS.Signals) => void): () => void {
  let received: NodeJS.Signals | undefined
  const listener = (signal: NodeJS.Signals) => {
    if (received === undefined) {
      received = signal
      onFirst(signal)
      return
    }
    const exitCode = 128 + (constants.signals[signal] ?? 15)
    logger.warn(
      { signal, first: received, exitCode },
      'second signal: exiting now without finishing shutdown',
    )
    process.exit(exitCode)
  }
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, listener)
  return () => {
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, listener)
  }
}
