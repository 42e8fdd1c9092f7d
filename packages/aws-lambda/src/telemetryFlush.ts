/** How long the flush after each invocation may take, at most; see `flushTimeoutMs`. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 2_000
/** Kept back from the invocation's remaining time, so the flush never makes Lambda cut it off. */
export const FLUSH_MARGIN_MS = 50
