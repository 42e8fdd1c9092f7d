import {
  BridgeUnavailableError,
  type EventBridgeOptions,
  flushTelemetry,
  type InstanceOptions,
  MemoryBroker,
  type Service,
  type ServiceInstance,
} from '@conduit/core'
import { createMemoryTransport, type Transport } from '@conduit/core/transport'
import { context as otelContext, ROOT_CONTEXT, type Span, trace } from '@opentelemetry/api'
import { InvocationLogger } from './invocationScope.js'
import {
  defaultXRayContextMode,
  type InvocationTrigger,
  recordInvocationError,
  startInvocationSpan,
  type XRayContextMode,
} from './invocationSpan.js'
import { LambdaBridge } from './LambdaBridge.js'
import type { LambdaContext } from './lambdaTypes.js'
import { DEFAULT_FLUSH_TIMEOUT_MS, FLUSH_MARGIN_MS } from './telemetryFlush.js'

export interface LambdaRuntimeOptions {
  /**
   * The transport outgoing invokes and emits go through (`createNatsTransport(...)`,
   * `createEventBusTransport(...)`...): created with the handler (no I/O), connected by the
   * first invocation, disconnected when the function closes. Default: an in-memory transport,
   * on which nothing outside this function listens.
   */
  outgoing?: Transport
  /** logger, stores and config of the service instance */
  instance?: InstanceOptions
  /** engine options of the function's own bridge: logger, default command timeout, drain timeout */
  engine?: EventBridgeOptions
  /** stop the service and close the bridge when Lambda sends SIGTERM; default true */
  closeOnSigterm?: boolean
  /** how long the SIGTERM cleanup may take before the process ends anyway; default 400 ms */
  shutdownTimeoutMs?: number
  /**
   * What the X-Ray trace headers (`_X_AMZN_TRACE_ID`, `x-amzn-trace-id`, `AWSTraceHeader`) are to
   * the invocation's span: `link` (each one a span link), or `parent` (the invocation's own header
   * continues its trace when no W3C traceparent came with the request). Default: `parent` when
   * OTEL_PROPAGATORS lists `xray-lambda`, else `link`.
   */
  xrayContext?: XRayContextMode
  /**
   * Upper bound on flushing the global tracer and meter providers before each invocation returns
   * (never past the invocation's remaining time); default 2000 ms, 0 to leave flushing to you.
   */
  flushTimeoutMs?: number
}

type State = 'open' | 'closing' | 'closed'

/**
 * One service in one Lambda container. Creating it does no I/O, so the function's init never
 * fails on a broker: the first invocation starts the bridge (connecting the outgoing transport)
 * and the service, every later one reuses them, and a failed start is retried by the next
 * invocation. SIGTERM (Lambda's shutdown signal) or `close()` stops the service, then the bridge.
 * Share one runtime between an HTTP handler and an event handler of the same function.
 */
export class LambdaRuntime {
  readonly bridge: LambdaBridge
  private instance: ServiceInstance | undefined
  private starting: Promise<ServiceInstance> | undefined
  private bridgeStarted = false
  private state: State = 'open'
  private closing: Promise<void> | undefined
  private readonly onSigterm = () => void this.shutDownOnSignal()

  private readonly xrayContext: XRayContextMode
  private readonly instanceOptions: InstanceOptions | undefined

  constructor(
    readonly service: Service,
    private readonly options: LambdaRuntimeOptions = {},
  ) {
    this.bridge = new LambdaBridge(
      options.outgoing ?? createMemoryTransport(new MemoryBroker()),
      options.engine,
    )
    this.xrayContext = options.xrayContext ?? defaultXRayContextMode()
    const instanceLogger = options.instance?.logger
    this.instanceOptions = instanceLogger
      ? { ...options.instance, logger: InvocationLogger.wrap(instanceLogger) }
      : options.instance
  }

  /** Accepts a service (a runtime of its own) or a runtime to share. */
  static of(target: Service | LambdaRuntime, options: LambdaRuntimeOptions = {}): LambdaRuntime {
    return target instanceof LambdaRuntime ? target : new LambdaRuntime(target, options)
  }

  /** True once an invocation has started the service in this container. */
  get isInitialised(): boolean {
    return this.instance?.isRunning ?? false
  }

  /** The running service instance; the first call starts it, later calls reuse it. */
  ready(): Promise<ServiceInstance> {
    if (this.state !== 'open') {
      return Promise.reject(new BridgeUnavailableError('the Lambda runtime was closed (SIGTERM or close())'))
    }
    if (this.instance?.isRunning) return Promise.resolve(this.instance)
    // Started outside the invocation's span: the connections it opens outlive the invocation.
    this.starting ??= otelContext
      .with(ROOT_CONTEXT, () => this.start())
      .finally(() => {
        this.starting = undefined // after a failure, the next invocation tries again
      })
    return this.starting
  }

  /**
   * Runs one Lambda invocation: in its span (FaaS attributes, X-Ray links; the active span while
   * `work` runs) and its scope (command deadlines, `awsRequestId` on log lines); then ends the
   * span and flushes spans and metrics, whether `work` succeeded or threw.
   */
  invoke<T>(
    lambda: LambdaContext | undefined,
    trigger: InvocationTrigger<T>,
    work: (span: Span) => Promise<T>,
  ): Promise<T> {
    return this.bridge.runInvocation(lambda, async () => {
      const span = startInvocationSpan(trigger, lambda, this.xrayContext)
      try {
        const result = await otelContext.with(trace.setSpan(otelContext.active(), span), () => work(span))
        trigger.settle?.(span, result)
        return result
      } catch (error) {
        recordInvocationError(span, error)
        throw error
      } finally {
        span.end()
        await flushTelemetry(this.flushBound(lambda), this.bridge.logger, 'the invocation returns without it')
      }
    })
  }

  private flushBound(lambda: LambdaContext | undefined): number {
    const configured = this.options.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS
    if (typeof lambda?.getRemainingTimeInMillis !== 'function') return configured
    return Math.min(configured, lambda.getRemainingTimeInMillis() - FLUSH_MARGIN_MS)
  }

  /** Stops the service (waiting for handlers in flight), then the bridge and its outgoing transport. */
  close(): Promise<void> {
    this.closing ??= this.stop()
    return this.closing
  }

  private async start(): Promise<ServiceInstance> {
    if (!this.bridgeStarted) {
      // Connects the outgoing transport; a failure leaves the bridge startable again.
      await this.bridge.start()
      this.bridgeStarted = true
    }
    this.instance ??= await this.service.getInstance(this.bridge, this.instanceOptions)
    await this.instance.start()
    if (this.options.closeOnSigterm ?? true) {
      process.removeListener('SIGTERM', this.onSigterm)
      process.once('SIGTERM', this.onSigterm)
    }
    this.bridge.logger.debug({ service: this.service.definition.name }, 'function initialised')
    return this.instance
  }

  private async stop(): Promise<void> {
    this.state = 'closing'
    process.removeListener('SIGTERM', this.onSigterm)
    await this.starting?.catch(() => undefined)
    await this.instance?.stop()
    // Never initialised: nothing was started, so nothing is stopped.
    if (this.bridgeStarted) await this.bridge.stop()
    this.state = 'closed'
  }

  private async shutDownOnSignal(): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.shutdownTimeoutMs ?? 400)
    })
    try {
      await Promise.race([this.close(), timeout])
    } catch (error) {
      this.bridge.logger.error({ err: error }, 'closing the function on SIGTERM failed')
    } finally {
      clearTimeout(timer)
    }
    // Without other listeners, SIGTERM's default (ending the process) is what the sender expects.
    if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM')
  }
}
