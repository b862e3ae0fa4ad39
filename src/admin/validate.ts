// Checks of the admin calls' arguments, before any network work: a ConfigError that names the
// option and the value.

import { checkValue } from '../options/validate.ts'
import { ConfigError } from '../protocol/errors.ts'

export function list(at: string, value: unknown): void {
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(`${at} must be a non-empty array`)
}

export function name(at: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new ConfigError(`${at} must be a non-empty string, got ${JSON.stringify(value)}`)
  return value
}

export function names(at: string, value: unknown): void {
  list(at, value)
  for (const [i, v] of (value as unknown[]).entries()) name(`${at}: [${i}]`, v)
}

export function int(at: string, value: unknown, min: number, max?: number): void {
  checkValue({ kind: 'integer', min, max }, value, at)
}

export function offset(at: string, value: unknown): void {
  const ok = typeof value === 'bigint' ? value >= -1n : Number.isSafeInteger(value) && (value as number) >= -1
  if (!ok) throw new ConfigError(`${at} must be an offset (bigint or integer >= -1), got ${String(value)}`)
}

/** The `timeoutMs` of an admin call, sent to the broker with the request (default 30 s). */
export function requestTimeout(at: string, value: number | undefined): number {
  if (value === undefined) return 30_000
  int(`${at}: timeoutMs`, value, 0, 2 ** 31 - 1)
  return value
}

/** The index of `value` in `allowed`, or a ConfigError listing what is. */
export function oneOf(at: string, value: unknown, allowed: readonly string[]): number {
  const i = allowed.indexOf(value as string)
  if (i < 0) throw new ConfigError(`${at} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`)
  return i
}
