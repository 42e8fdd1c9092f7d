import type { IncomingMessage, ServerResponse } from 'node:http'
import { BodyTooLargeError, callApp, forwardableHeaders, readBody, sendDaprError } from './http.js'
import type { EmulatedSidecar } from './Sidecar.js'

// Service invocation (docs: reference/api/service_invocation_api): the caller's sidecar
// resolves the app id to one running instance and proxies the request to `/<method>` on its
// app port, with method, headers and body; the app's status, headers and body come back
// unchanged. No instance, or none reachable: 500 ERR_DIRECT_INVOKE.

export interface NameResolution {
  /** the running instances of an app id, rotated so that each call starts at the next one */
  resolve(appId: string): EmulatedSidecar[]
  readonly maxBodyBytes: number
}

/** Refused before anything was sent: safe to try the next instance (a reset mid-call is not). */
function isRefused(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED'
}

export async function handleInvoke(
  names: NameResolution,
  caller: EmulatedSidecar,
  request: IncomingMessage,
  response: ServerResponse,
  appId: string,
  methodAndQuery: string,
): Promise<void> {
  let body: Buffer
  try {
    body = await readBody(request, names.maxBodyBytes)
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error
    sendDaprError(response, 413, 'ERR_BODY_TOO_LARGE', error.message)
    return
  }
  const callerGone = new AbortController()
  response.on('close', () => {
    if (!response.writableFinished) callerGone.abort()
  })
  const headers = forwardableHeaders(request.headers)
  delete headers['dapr-api-token']
  headers['dapr-callee-app-id'] = appId
  if (caller.appId) headers['dapr-caller-app-id'] = caller.appId
  const instances = names.resolve(appId)
  let failure = `couldn't find service: ${appId}`
  for (const instance of instances) {
    const app = instance.appTarget()
    if (!app) continue
    try {
      const answer = await callApp(instance.agent, app, {
        method: request.method ?? 'POST',
        path: `/${methodAndQuery}`,
        headers,
        body,
        signal: callerGone.signal,
      })
      if (response.destroyed) return
      response.writeHead(answer.status, {
        ...forwardableHeaders(answer.headers),
        'content-length': answer.body.byteLength,
      })
      response.end(answer.body)
      return
    } catch (error) {
      if (callerGone.signal.aborted) return
      failure = (error as Error).message
      if (!isRefused(error)) break
    }
  }
  sendDaprError(response, 500, 'ERR_DIRECT_INVOKE', `failed to invoke, id: ${appId}, err: ${failure}`)
}
