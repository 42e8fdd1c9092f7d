import { defineEvent, defineService, HandledError } from '@conduit/core'
import { z } from 'zod'

// The user service's contract: schemas, events and HTTP bindings, no handlers. Callers, the
// HTTP gateway and other services import this file; only the process that runs the service
// imports ./service.ts.

export const userSchema = z.object({
  userId: z.string(),
  name: z.string(),
  email: z.email(),
  registeredAt: z.iso.datetime(),
})
export type User = z.infer<typeof userSchema>

export const userRegistered = defineEvent(
  'user.registered',
  z.object({ userId: z.string(), name: z.string(), email: z.email() }),
  'A new user was registered',
)

export const userV1 = defineService({
  name: 'user',
  version: '1',
  description: 'Registers users and reads them back',
})

export const registerNewUser = userV1.command('registerNewUser', {
  description: 'Registers a user and emits user.registered',
  input: z.object({ name: z.string().min(1).max(200), email: z.email() }),
  output: z.object({ userId: z.string() }),
  emits: [userRegistered],
  http: { method: 'POST', path: '/users', successStatus: 201, public: true },
})

export const getUser = userV1.command('getUser', {
  description: 'Reads a user by id; 404 when there is none',
  input: z.object({}).optional(),
  parameter: z.object({ userId: z.string().min(1) }),
  output: userSchema,
  http: { method: 'GET', path: '/users/:userId', public: true },
})

/** What getUser throws for an unknown id (status 404, the id as data). */
export function userNotFound(userId: string): HandledError {
  return new HandledError(404, `User ${userId} not found`, { userId })
}
