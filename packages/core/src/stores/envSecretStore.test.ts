import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { envSecretStore } from './envSecretStore.js'

describe('envSecretStore', () => {
  let directory: string
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'conduit-secrets-'))
  })
  afterEach(() => rm(directory, { recursive: true, force: true }))

  it('reads a variable, then the file its _FILE variable names, then the mounted folder', async () => {
    await writeFile(join(directory, 'db_password'), 'from-folder\n')
    await writeFile(join(directory, 'api-token.txt'), 'from-file-variable\r\n')
    const store = envSecretStore({
      prefix: 'APP_',
      directory,
      env: { APP_smtp_password: 'from-variable', APP_api_token_FILE: join(directory, 'api-token.txt') },
    })
    expect(await store.get('smtp_password')).toBe('from-variable')
    expect(await store.get('api_token')).toBe('from-file-variable')
    expect(await store.get('db_password')).toBe('from-folder')
    expect(await store.get('absent')).toBeUndefined()
  })

  it('a variable wins over a file of the same key, and an empty variable is a value', async () => {
    await writeFile(join(directory, 'token'), 'file')
    const store = envSecretStore({ directory, env: { token: '' } })
    expect(await store.get('token')).toBe('')
  })

  it('a _FILE variable naming a missing file fails loudly, naming the file', async () => {
    const missing = join(directory, 'nope')
    const store = envSecretStore({ env: { token_FILE: missing } })
    await expect(store.get('token')).rejects.toThrow(`cannot read the secret file ${missing}`)
  })

  it('refuses keys that could leave the folder or are not variable names', async () => {
    const store = envSecretStore({ directory, env: {} })
    for (const key of ['../etc/passwd', 'a/b', '..', '', 'with space', 'a..b']) {
      await expect(store.get(key), key).rejects.toThrow(/must be letters, digits/)
    }
  })
})
