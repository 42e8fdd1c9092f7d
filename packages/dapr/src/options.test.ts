import { describe, expect, it } from 'vitest'
import { DAPR_DEFAULT_MAX_BODY_BYTES, defaultAppIdOf, resolveDaprOptions } from './options.js'

describe('resolveDaprOptions', () => {
  it('defaults to the sidecar on 127.0.0.1:3500, app port 3000, pub/sub "pubsub", 4 MiB', () => {
    const resolved = resolveDaprOptions({}, {})
    expect(resolved).toMatchObject({
      daprBaseUrl: 'http://127.0.0.1:3500',
      appPort: 3000,
      appHost: '127.0.0.1',
      appId: undefined,
      pubsubName: 'pubsub',
      topicPrefix: '',
      maxPayloadBytes: DAPR_DEFAULT_MAX_BODY_BYTES,
    })
    expect(resolved.appIdOf('user', '1')).toBe('user-v1')
  })

  it('reads what `dapr run` puts in the environment, and options win over it', () => {
    const env = { DAPR_HTTP_PORT: '3601', APP_PORT: '3001', APP_ID: 'email-v1', DAPR_API_TOKEN: 't' }
    expect(resolveDaprOptions({}, env)).toMatchObject({
      daprBaseUrl: 'http://127.0.0.1:3601',
      appPort: 3001,
      appId: 'email-v1',
      daprApiToken: 't',
    })
    expect(resolveDaprOptions({ daprHttpPort: 4000, appId: 'x', appPort: 0 }, env)).toMatchObject({
      daprBaseUrl: 'http://127.0.0.1:4000',
      appId: 'x',
      appPort: 0,
    })
  })

  it('maps service and version to an app id', () => {
    expect(defaultAppIdOf('email', '2')).toBe('email-v2')
  })
})
