/** A minimal Server-Sent Events reader over fetch, for tests. */
export interface SseMessage {
  event: string | undefined
  id: string | undefined
  data: string
}

export interface SseConnection {
  response: Response
  /** resolves with the next `count` messages (comments are skipped) */
  next(count?: number, timeoutMs?: number): Promise<SseMessage[]>
  close(): void
}

export async function openEventStream(
  url: string,
  headers: Record<string, string> = {},
): Promise<SseConnection> {
  const abort = new AbortController()
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  })
  const messages: SseMessage[] = []
  const waiters: (() => void)[] = []
  if (response.ok && response.body) {
    void (async () => {
      const decoder = new TextDecoder()
      let buffer = ''
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true })
          let end = buffer.indexOf('\n\n')
          while (end !== -1) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const message = parseBlock(block)
            if (message) {
              messages.push(message)
              for (const wake of waiters.splice(0)) wake()
            }
            end = buffer.indexOf('\n\n')
          }
        }
      } catch {
        // aborted by close()
      }
    })()
  }
  return {
    response,
    async next(count = 1, timeoutMs = 3_000) {
      const deadline = Date.now() + timeoutMs
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} SSE messages, got ${messages.length}`)
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 50)
        })
      }
      return messages.splice(0, count)
    },
    close: () => abort.abort(),
  }
}

function parseBlock(block: string): SseMessage | undefined {
  let event: string | undefined
  let id: string | undefined
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'event') event = value
    else if (field === 'id') id = value
    else if (field === 'data') data.push(value)
  }
  return data.length === 0 && event === undefined ? undefined : { event, id, data: data.join('\n') }
}
