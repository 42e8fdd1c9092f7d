import { AsyncLocalStorage } from 'node:async_hooks'
import type { Logger } from '@conduit/core'

/** What the code running for one Lambda invocation can read from its async context. */
export interface Invocation {
  /** epoch ms no command invoked during the invocation may outlive */
  readonly deadline: number | undefined
  /** the Lambda context's awsRequestId, bound to every log line of the invocation */
  readonly awsRequestId: string | undefined
  /** loggers bound to awsRequestId, one per base logger, made on first use */
  readonly boundLoggers: Map<Logger, Logger>
  /** set when the invocation settles: callbacks created during it (a client's socket) outlive it */
  ended: boolean
}

const scope = new AsyncLocalStorage<Invocation>()

/** The invocation the caller runs for; undefined outside one, or after it settled. */
export function currentInvocation(): Invocation | undefined {
  const invocation = scope.getStore()
  return invocation && !invocation.ended ? invocation : undefined
}

/** Runs `work` as `invocation`; anything it leaves behind stops seeing the invocation once it settles. */
export async function runInInvocation<T>(invocation: Invocation, work: () => Promise<T>): Promise<T> {
  try {
    return await scope.run(invocation, work)
  } finally {
    invocation.ended = true
  }
}

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'

/**
 * A logger that adds `awsRequestId` to every line written during an invocation: each call goes
 * to a child of `base` bound to the current invocation's id (made once per invocation), or to
 * `base` itself outside one. Children made from it (a handler's `ctx.logger`, the engine's and
 * the gateway's loggers) are lazy in the same way, so a logger made during one invocation never
 * carries its id into the next.
 */
export class InvocationLogger implements Logger {
  readonly trace: Logger['trace'] = (...args: unknown[]) => this.write('trace', args)
  readonly debug: Logger['debug'] = (...args: unknown[]) => this.write('debug', args)
  readonly info: Logger['info'] = (...args: unknown[]) => this.write('info', args)
  readonly warn: Logger['warn'] = (...args: unknown[]) => this.write('warn', args)
  readonly error: Logger['error'] = (...args: unknown[]) => this.write('error', args)
  readonly fatal: Logger['fatal'] = (...args: unknown[]) => this.write('fatal', args)

  private constructor(private readonly base: Logger) {}

  /** Wraps `base` (once: a logger already wrapped is returned as is). */
  static wrap(base: Logger): Logger {
    return base instanceof InvocationLogger ? base : new InvocationLogger(base)
  }

  child(bindings: Record<string, unknown>): Logger {
    return new InvocationLogger(this.base.child(bindings))
  }

  private write(level: Level, args: unknown[]): void {
    const target = this.target()
    ;(target[level] as (...line: unknown[]) => void).apply(target, args)
  }

  private target(): Logger {
    const invocation = currentInvocation()
    if (invocation?.awsRequestId === undefined) return this.base
    let bound = invocation.boundLoggers.get(this.base)
    if (bound === undefined) {
      bound = this.base.child({ awsRequestId: invocation.awsRequestId })
      invocation.boundLoggers.set(this.base, bound)
    }
    return bound
  }
}
