/**
 * `server.address` and `server.port` for spans, from a broker URL (`nats://host:4222`,
 * `amqp://user:pass@host`, `mqtt://host:1883`; a bare `host:port` is read as one). Credentials
 * and paths are dropped; an unreadable URL gives undefined rather than a wrong attribute.
 */
export function serverAddressOf(
  url: string,
  defaultPort: number,
): { readonly address: string; readonly port: number } | undefined {
  try {
    const parsed = new URL(url.includes('://') ? url : `tcp://${url}`)
    const address = parsed.hostname.replace(/^\[|\]$/g, '')
    if (address === '') return undefined
    return { address, port: parsed.port === '' ? defaultPort : Number(parsed.port) }
  } catch {
    return undefined
  }
}
