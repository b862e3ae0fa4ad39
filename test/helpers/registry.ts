// Helpers for tests against the real schema registry (Apicurio Registry, Confluent-compatible API).
// scripts/test.ts starts one for the run when a selected test imports this file, and passes its URL
// in REGISTRY_URL; a secured instance (auth, TLS) is started by the test that needs it.

import { randomBytes, sign } from 'node:crypto'
import { REGISTRY_PORT, registryLogTail, registryTokenKey } from '../../scripts/registry/harness.ts'

export {
  REGISTRY_PORT,
  REGISTRY_USERS,
  registryLogTail,
  registryPorts,
  startRegistry,
  stopRegistry,
} from '../../scripts/registry/harness.ts'

/** The Confluent-compatible API of this run's registry. */
export function registryUrl(): string {
  return process.env.REGISTRY_URL ?? `http://127.0.0.1:${REGISTRY_PORT}/apis/ccompat/v7`
}

/** A subject (or topic) name no other test or earlier run against the same registry uses. */
export function uniqueName(prefix = 'sr'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
}

/** An RS256 JWT a secured instance at `port` accepts, with these claims (and iat/exp for `lifetimeS`). */
export function signedToken(port: number, claims: Record<string, unknown> = {}, lifetimeS = 600): string {
  const now = Math.floor(Date.now() / 1000)
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ sub: 'kafkax-test', iat: now, exp: now + lifetimeS, ...claims })}`
  return `${unsigned}.${sign('sha256', Buffer.from(unsigned), registryTokenKey(port)).toString('base64url')}`
}

/** The registry's log tail, for assertion messages. */
export function registryLog(lines = 30): string {
  return registryLogTail(REGISTRY_PORT, lines)
}
