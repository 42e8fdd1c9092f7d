/** What a transport returns when a message was handed over synchronously: the engine then skips its error handler. */
export const SENT: Promise<void> = Promise.resolve()
