export {
  createEventBusTransport,
  EVENT_BUS_BRIDGE_NAME,
  EVENT_BUS_MAX_ENTRY_BYTES,
  EventBusBridge,
  type EventBusBridgeOptions,
  type EventBusTransportOptions,
  type PutEvents,
  type PutEventsEntry,
  type PutEventsResult,
} from './EventBusBridge.js'
export type { AnyEventBridgeEvent } from './eventbridge.js'
export {
  createEventHandler,
  type EventHandler,
  type EventHandlerOptions,
  type SourceEvent,
} from './events.js'
export type { FaasTrigger } from './faasAttributes.js'
export {
  createHttpHandler,
  type HttpEvent,
  type HttpHandler,
  type HttpHandlerOptions,
} from './http.js'
export {
  DEFAULT_EVENT_NAME_ATTRIBUTE,
  type EventNaming,
  envelopeFromBody,
  envelopeFromValue,
  type RecordOrigin,
} from './inboundEnvelope.js'
export type { InvocationTrigger, XRayContextMode } from './invocationSpan.js'
export { DEADLINE_MARGIN_MS, type InvocationClock, LambdaBridge } from './LambdaBridge.js'
export { LambdaRuntime, type LambdaRuntimeOptions } from './LambdaRuntime.js'
export {
  createLambdaTransport,
  LAMBDA_BRIDGE_NAME,
  type LambdaTransport,
  type SubscriptionOutcome,
} from './LambdaTransport.js'
export type {
  ApiGatewayProxyEvent,
  ApiGatewayProxyEventV2,
  EventBridgeEvent,
  HttpResult,
  LambdaContext,
  SnsEvent,
  SnsRecord,
  SqsBatchResponse,
  SqsEvent,
  SqsMessageAttribute,
  SqsRecord,
} from './lambdaTypes.js'
export { RecordDeliveryError, type RecordResult } from './recordDelivery.js'
export { DEFAULT_FLUSH_TIMEOUT_MS } from './telemetryFlush.js'
