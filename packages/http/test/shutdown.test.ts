import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const packageDir = fileURLToPath(new URL('../', import.meta.url))
const WAIT = { timeout: 10_000, interval: 20 }

interface GatewayChild {
  child: ChildProcess
  url: string
  /** the `msg` of every log line so far, in order */
  messages: string[]
}

let running: ChildProcess | undefined
afterEach(() => {
  if (running && running.exitCode === null && running.signalCode === null) running.kill('SIGKILL')
  running = undefined
})

/** Starts test/support/holdingGatewayProcess.ts and resolves once it listens. */
async function startGateway(env: {
  SHUTDOWN_DELAY_MS: string
  CLOSE_TIMEOUT_MS: string
}): Promise<GatewayChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/holdingGatewayProcess.ts'], {
    cwd: packageDir,
    env: { ...process.env, ...env, CONDUIT_LOG_LEVEL: 'info' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  running = child
  const messages: string[] = []
  let url: string | undefined
  const stderr: string[] = []
  child.stderr!.on('data', (chunk) => stderr.push(String(chunk)))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const entry = JSON.parse(line) as { msg: string; url?: string }
    messages.push(entry.msg)
    if (entry.msg === 'gateway listening') url = entry.url
  })
  await expect
    .poll(() => url ?? (child.exitCode !== null ? `exited: ${stderr.join('')}` : undefined), WAIT)
    .toMatch(/^http:/)
  return { child, url: url!, messages }
}

/** The status of GET /readyz, or `refused` once nothing listens. */
async function readyz(url: string): Promise<number | 'refused'> {
  try {
    return (await fetch(`${url}/readyz`)).status
  } catch {
    return 'refused'
  }
}

describe('stopping the gateway process', () => {
  it('on SIGTERM: /readyz 503 first, then the listener closes, the request in flight completes, only the event stream is cut, exit 0', {
    timeout: 30_000,
  }, async () => {
    const { child, url, messages } = await startGateway({
      SHUTDOWN_DELAY_MS: '1000',
      CLOSE_TIMEOUT_MS: '200',
    })
    const events = await fetch(`${url}/api/events`)
    expect(events.status).toBe(200)
    const stream = events.body!.getReader()
    const streamEnded = (async () => {
      try {
        while (!(await stream.read()).done);
      } catch {
        // cut: the connection was closed under it
      }
      return true
    })()

    let settled = false
    const inFlight = fetch(`${url}/api/v1/hold/hold`, { method: 'POST' }).finally(() => {
      settled = true
    })
    await expect.poll(() => messages.includes('hold started'), WAIT).toBe(true)

    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    // readiness turns first, while the listener still answers...
    const seen: (number | 'refused')[] = []
    await expect
      .poll(async () => {
        seen.push(await readyz(url))
        return seen.at(-1)
      }, WAIT)
      .toBe('refused')
    // ...then the listener closes
    expect(seen).toContain(503)
    expect(seen.indexOf(503)).toBeLessThan(seen.indexOf('refused'))
    expect(seen.slice(seen.indexOf(503)).every((status) => status === 503 || status === 'refused')).toBe(true)

    // closeTimeoutMs cuts the event stream; the command in flight is left to finish
    expect(await streamEnded).toBe(true)
    expect(settled).toBe(false)
    child.stdin!.write('release\n')
    const response = await inFlight
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ released: true })

    const [code] = await exited
    expect(code).toBe(0)
    const order = [
      'gateway stopping: /readyz answers 503 from now on',
      'gateway closing its listener; requests in flight complete',
      'gateway stopped',
    ]
    expect(messages.filter((message) => order.includes(message))).toEqual(order)
  })

  it('a second signal exits at once, without waiting for the request in flight', {
    timeout: 30_000,
  }, async () => {
    const { child, url, messages } = await startGateway({
      SHUTDOWN_DELAY_MS: '60000',
      CLOSE_TIMEOUT_MS: '60000',
    })
    const inFlight = fetch(`${url}/api/v1/hold/hold`, { method: 'POST' }).catch((error: unknown) => error)
    await expect.poll(() => messages.includes('hold started'), WAIT).toBe(true)
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await expect.poll(() => readyz(url), WAIT).toBe(503)
    expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({
      status: 'not ready',
      reason: 'SIGTERM received',
    })
    child.kill('SIGTERM')
    const [code] = await exited
    expect(code).toBe(1)
    expect(await inFlight).toBeInstanceOf(Error)
    expect(messages).toContain('second signal: exiting without waiting')
  })
})
