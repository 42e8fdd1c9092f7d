/** What the in-process transport returns when a message was handed over synchronously: the engine then skips its error handler. Core-only. */
export const SENT: Promise<void> = Promise.resolve()
