import type { EventBridge } from '../bridge/EventBridge.js'

/** A dependency check for readiness: true when the dependency can serve. */
export type ReadinessCheck = () => boolean | Promise<boolean>

export interface CheckResult {
  readonly ready: boolean
  readonly detail?: string
}

export interface Readiness {
  readonly ready: boolean
  /** why not ready (the first failing check, or "shutting down"); absent when ready */
  readonly reason?: string
  /** milliseconds since readiness last changed (ready to not ready or back) */
  readonly sinceChangeMs: number
  readonly checks: Readonly<Record<string, CheckResult>>
}

export interface Liveness {
  readonly live: boolean
  readonly reason?: string
}

const CHECK_TIMEOUT_MS = 2_000

/**
 * What `/healthz` and `/readyz` report, for the gateway and for service-only processes alike.
 * Liveness is the bridge's `isHealthy()`: false once its client has given up for good, so the
 * orchestrator restarts the process. Readiness is the bridge's `isReady()` plus any extra checks,
 * and turns false the moment shutdown begins, before any listener closes, so load balancers stop
 * sending work first.
 */
export class HealthMonitor {
  private stoppingReason: string | undefined
  private lastReady: boolean | undefined
  private changedAt = Date.now()

  constructor(
    private readonly bridge: EventBridge,
    private readonly checks: Readonly<Record<string, ReadinessCheck>> = {},
  ) {}

  /** Readiness stays false from now on (the process is shutting down). */
  markStopping(reason = 'shutting down'): void {
    this.stoppingReason ??= reason
    this.note(false)
  }

  get stopping(): boolean {
    return this.stoppingReason !== undefined
  }

  liveness(): Liveness {
    if (this.bridge.isHealthy()) return { live: true }
    return {
      live: false,
      reason: `the ${this.bridge.name} bridge is not healthy (its client gave up or it is stopped)`,
    }
  }

  async readiness(): Promise<Readiness> {
    const checks: Record<string, CheckResult> = {
      bridge: { ready: this.bridge.isReady(), detail: this.bridge.name },
    }
    await Promise.all(
      Object.entries(this.checks).map(async ([name, check]) => {
        checks[name] = await runCheck(check)
      }),
    )
    const failing = Object.entries(checks).find(([, result]) => !result.ready)
    const reason =
      this.stoppingReason ??
      (failing ? `${failing[0]} not ready${failing[1].detail ? ` (${failing[1].detail})` : ''}` : undefined)
    const ready = reason === undefined
    this.note(ready)
    return {
      ready,
      ...(reason === undefined ? {} : { reason }),
      sinceChangeMs: Date.now() - this.changedAt,
      checks,
    }
  }

  private note(ready: boolean): void {
    if (this.lastReady !== ready) {
      // the first observation starts the clock at construction, not at the first probe
      if (this.lastReady !== undefined) this.changedAt = Date.now()
      this.lastReady = ready
    }
  }
}

async function runCheck(check: ReadinessCheck): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)
  })
  try {
    return { ready: (await Promise.race([Promise.resolve(check()), timeout])) === true }
  } catch (error) {
    return { ready: false, detail: (error as Error).message }
  } finally {
    clearTimeout(timer)
  }
}
