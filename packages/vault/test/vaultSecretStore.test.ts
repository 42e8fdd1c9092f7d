import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { vaultSecretStore } from '../src/index.js'
import { VaultKvFixture } from './support/vaultKvFixture.js'

describe('vaultSecretStore (against a fixture written from Vault KV v2 API docs)', () => {
  let vault: VaultKvFixture
  beforeEach(async () => {
    vault = await VaultKvFixture.start()
    vault.write('secret', 'orders/prod', { db_password: 's3cr3t', port: 5432, tls: { ca: 'pem' } })
  })
  afterEach(() => vault.close())

  it('returns the fields of the secret; non-string fields as JSON; a missing field or secret is undefined', async () => {
    const store = vaultSecretStore({ address: vault.address, token: vault.token, path: 'orders/prod' })
    expect(await store.get('db_password')).toBe('s3cr3t')
    expect(await store.get('port')).toBe('5432')
    expect(await store.get('tls')).toBe('{"ca":"pem"}')
    expect(await store.get('absent')).toBeUndefined()
    const other = vaultSecretStore({ address: vault.address, token: vault.token, path: 'orders/none' })
    expect(await other.get('db_password')).toBeUndefined()
  })

  it('reads once per cache period and sees a rotated value after it', async () => {
    const store = vaultSecretStore({
      address: vault.address,
      token: vault.token,
      path: 'orders/prod',
      cacheTtlMs: 200,
    })
    await Promise.all([store.get('db_password'), store.get('port')])
    await store.get('tls')
    expect(vault.reads).toHaveLength(1)
    vault.write('secret', 'orders/prod', { db_password: 'rotated' })
    await vi.waitFor(async () => expect(await store.get('db_password')).toBe('rotated'), {
      timeout: 5_000,
      interval: 50,
    })
    expect(vault.reads.length).toBeGreaterThanOrEqual(2)
  })

  it('sends the namespace and uses the mount it is given', async () => {
    vault.write('kv', 'app', { key: 'value' })
    const store = vaultSecretStore({
      address: vault.address,
      token: vault.token,
      mount: 'kv',
      path: 'app',
      namespace: 'team-a',
    })
    expect(await store.get('key')).toBe('value')
    expect(vault.reads).toEqual([{ path: 'kv/app', namespace: 'team-a' }])
  })

  it('a refused token fails with Vault’s own reason, and the failure is not cached', async () => {
    const store = vaultSecretStore({ address: vault.address, token: 'wrong', path: 'orders/prod' })
    await expect(store.get('db_password')).rejects.toThrow(
      'reading secret/orders/prod failed with 403: permission denied',
    )
    await expect(store.get('db_password')).rejects.toThrow(/403/)
    expect(vault.reads).toHaveLength(0)
  })

  it('an unreachable Vault fails naming the address; bad paths and a missing token are refused at construction', async () => {
    const address = vault.address
    await vault.close()
    vault = await VaultKvFixture.start()
    const store = vaultSecretStore({ address, token: 't', path: 'orders/prod', timeoutMs: 2_000 })
    await expect(store.get('db_password')).rejects.toThrow(`cannot reach Vault at ${address}`)
    expect(() => vaultSecretStore({ token: 't', path: '../sys/raw' })).toThrow(/is not a Vault path/)
    expect(() => vaultSecretStore({ token: 't', path: 'a//b' })).toThrow(/is not a Vault path/)
    expect(() => vaultSecretStore({ token: '', path: 'app' })).toThrow(/no token/)
  })
})
