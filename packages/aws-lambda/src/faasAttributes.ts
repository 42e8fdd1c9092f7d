import type { Attributes } from '@opentelemetry/api'
import type { LambdaContext } from './lambdaTypes.js'

/** `faas.trigger` values of the FaaS semantic conventions. */
export type FaasTrigger = 'http' | 'pubsub' | 'datasource' | 'timer' | 'other'

// The attribute names of @opentelemetry/semantic-conventions 1.45 (incubating entry), written out
// so the runtime needs no dependency; the tests compare them with the package's constants.
export const FAAS = {
  trigger: 'faas.trigger',
  invocationId: 'faas.invocation.id',
  coldstart: 'faas.coldstart',
  name: 'faas.name',
  version: 'faas.version',
  instance: 'faas.instance',
  maxMemory: 'faas.max_memory',
  cloudProvider: 'cloud.provider',
  cloudPlatform: 'cloud.platform',
  cloudRegion: 'cloud.region',
  cloudAccountId: 'cloud.account.id',
  cloudResourceId: 'cloud.resource_id',
  invokedArn: 'aws.lambda.invoked_arn',
} as const

let coldStartTaken = false

/**
 * True for the first invocation of this process only. A provisioned-concurrency environment was
 * initialised ahead of its first request, so none of its invocations is a cold start.
 */
export function takeColdStart(): boolean {
  if (coldStartTaken) return false
  coldStartTaken = true
  return process.env.AWS_LAMBDA_INITIALIZATION_TYPE !== 'provisioned-concurrency'
}

/** The `faas.*` and `cloud.*` attributes of one invocation's span. */
export function faasAttributes(
  lambda: Partial<LambdaContext> | undefined,
  trigger: FaasTrigger,
  coldStart: boolean,
): Attributes {
  const attributes: Attributes = {
    [FAAS.trigger]: trigger,
    [FAAS.coldstart]: coldStart,
    [FAAS.cloudProvider]: 'aws',
    [FAAS.cloudPlatform]: 'aws_lambda',
  }
  const set = (name: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '' && !Number.isNaN(value)) attributes[name] = value
  }
  set(FAAS.invocationId, lambda?.awsRequestId)
  set(FAAS.name, lambda?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME)
  set(FAAS.version, lambda?.functionVersion ?? process.env.AWS_LAMBDA_FUNCTION_VERSION)
  set(FAAS.instance, lambda?.logStreamName ?? process.env.AWS_LAMBDA_LOG_STREAM_NAME)
  const megabytes = lambda?.memoryLimitInMB ?? process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE
  if (megabytes !== undefined) set(FAAS.maxMemory, Number(megabytes) * 1024 * 1024)
  const arn = parseFunctionArn(lambda?.invokedFunctionArn)
  set(FAAS.cloudRegion, arn?.region ?? process.env.AWS_REGION)
  set(FAAS.cloudAccountId, arn?.accountId)
  if (arn) {
    set(FAAS.cloudResourceId, functionResourceId(arn, lambda?.functionVersion))
    set(FAAS.invokedArn, lambda?.invokedFunctionArn)
  }
  return attributes
}

interface FunctionArn {
  /** `arn:<partition>:lambda:<region>:<account>:function:<name>`, without qualifier */
  readonly unqualified: string
  readonly region: string
  readonly accountId: string
  /** the alias or version the function was invoked by, if any */
  readonly qualifier: string | undefined
}

/** `arn:aws:lambda:us-east-1:123456789012:function:name[:alias-or-version]` */
export function parseFunctionArn(arn: string | undefined): FunctionArn | undefined {
  const parts = arn?.split(':')
  if (!parts || parts.length < 7 || parts[0] !== 'arn' || parts[2] !== 'lambda' || parts[5] !== 'function') {
    return undefined
  }
  return {
    unqualified: parts.slice(0, 7).join(':'),
    region: parts[3]!,
    accountId: parts[4]!,
    qualifier: parts[7],
  }
}

/**
 * `cloud.resource_id`: the function ARN with an alias replaced by the version it resolved to,
 * since one runtime instance may be invoked through several aliases (the conventions' rule).
 */
function functionResourceId(arn: FunctionArn, functionVersion: string | undefined): string {
  if (arn.qualifier === undefined || !functionVersion) return arn.unqualified
  return `${arn.unqualified}:${functionVersion}`
}
