// Logging: clients take any pino- or console-like logger (`logger.warn(fields, text)`), are silent
// by default, and KAFKAX_LOG_LEVEL turns on a small JSON-lines logger on stderr. Methods a logger
// lacks are skipped, and the built-in one leaves out those below its level, so `log.debug?.(...)`
// costs one property read when debug is off. Log lines never carry options (so no credentials).

import { format } from 'node:util'
import { ConfigError } from '../protocol/errors.ts'

/** A logger method: pino's `(fields, message)` or console's `(...args)`. */
export type LogMethod = (...args: any[]) => void

/** A pino- or console-like logger: each method takes `(fields, text)`; missing ones are skipped. */
export interface Logger {
  trace?: LogMethod
  debug?: LogMethod
  info?: LogMethod
  warn?: LogMethod
  error?: LogMethod
  /** A logger adding `bindings` to every line (pino's child); childLogger() wraps loggers without one. */
  child?: (bindings: Record<string, unknown>) => Logger
}

/** The levels of KAFKAX_LOG_LEVEL and jsonLogger; `silent` logs nothing. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const

/** Logs nothing: every method is absent. */
export const silentLogger: Logger = Object.freeze({})

/** Errors as plain fields (JSON.stringify drops their own), bigints (offsets) as strings. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return String(value)
  if (value instanceof Error) {
    const { code, retriable } = value as Error & { code?: unknown; retriable?: unknown }
    return { type: value.name, message: value.message, code, retriable, stack: value.stack }
  }
  return value
}

/**
 * One JSON object per line, `{ time, level, msg, ...bindings, ...fields }`, written with `write`
 * (default: stderr). Called pino-style: `(fields, text, ...args)` or `(text, ...args)`; an Error
 * as first argument is logged as `err`.
 */
export function jsonLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
  bindings: Record<string, unknown> = {},
): Logger {
  const logger: Logger = { child: (more) => jsonLogger(level, write, { ...bindings, ...more }) }
  const from = level === 'silent' ? LEVELS.length : LEVELS.indexOf(level)
  for (const name of LEVELS.slice(from)) {
    logger[name] = (first: unknown, ...rest: unknown[]) => {
      let fields: object | undefined
      if (first instanceof Error) fields = { err: first }
      else if (typeof first === 'object' && first !== null) fields = first
      else rest.unshift(first)
      const line = { time: Date.now(), level: name, msg: format(...rest), ...bindings, ...fields }
      write(`${JSON.stringify(line, replacer)}\n`)
    }
  }
  return logger
}

/** The logger of a client: the one given, else jsonLogger() when KAFKAX_LOG_LEVEL names a level, else silence. */
export function resolveLogger(logger: Logger | undefined, env: NodeJS.ProcessEnv = process.env): Logger {
  if (logger) return logger
  const level = env.KAFKAX_LOG_LEVEL?.trim().toLowerCase()
  if (!level) return silentLogger
  if (level !== 'silent' && !(LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(
      `KAFKAX_LOG_LEVEL must be one of ${LEVELS.join(', ')}, silent; got ${JSON.stringify(env.KAFKAX_LOG_LEVEL)}`,
    )
  }
  return jsonLogger(level as LogLevel)
}

/** `logger.child(bindings)` when the logger has one; else a wrapper that merges them into each line's fields. */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  if (typeof logger.child === 'function') return logger.child(bindings)
  const child: Logger = { child: (more) => childLogger(logger, { ...bindings, ...more }) }
  for (const name of LEVELS) {
    const method = logger[name]
    if (typeof method !== 'function') continue
    child[name] = (first: unknown, ...rest: unknown[]) => {
      if (first instanceof Error) method.call(logger, { ...bindings, err: first }, ...rest)
      else if (typeof first === 'object' && first !== null) method.call(logger, { ...bindings, ...first }, ...rest)
      else method.call(logger, bindings, first, ...rest)
    }
  }
  return child
}
