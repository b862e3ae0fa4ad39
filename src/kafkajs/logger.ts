// kafkajs's logging: levels (`logLevel`), a `logCreator` receiving structured entries, namespaced
// loggers, KAFKAJS_LOG_LEVEL overriding the configured level, JSON lines on the console by default;
// and the bridge that lets the kafkax clients underneath log through it.

import { format } from 'node:util'
import type { Logger as KafkaxLogger } from '../index.ts'

/** kafkajs's log levels. */
export const logLevel = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const
/** One of the log levels. */
export type logLevel = (typeof logLevel)[keyof typeof logLevel]

/** What a log line carries besides its level and namespace. */
export interface LoggerEntryContent {
  readonly timestamp: string
  readonly message: string
  [key: string]: any
}

/** One log line, as a logCreator receives it. */
export interface LogEntry {
  namespace: string
  level: logLevel
  label: string
  log: LoggerEntryContent
}

/** Makes the function that writes log entries, given the configured level. */
export type logCreator = (logLevel: logLevel) => (entry: LogEntry) => void

/** kafkajs's logger: `kafka.logger()`, `producer.logger()`, `admin.logger()`. */
export interface Logger {
  info: (message: string, extra?: object) => void
  error: (message: string, extra?: object) => void
  warn: (message: string, extra?: object) => void
  debug: (message: string, extra?: object) => void
  namespace: (namespace: string, logLevel?: logLevel) => Logger
  setLogLevel: (logLevel: logLevel) => void
}

const LABELS = [
  ['ERROR', logLevel.ERROR],
  ['WARN', logLevel.WARN],
  ['INFO', logLevel.INFO],
  ['DEBUG', logLevel.DEBUG],
] as const

/** KAFKAJS_LOG_LEVEL (a level's name) wins over the level in code, as in kafkajs. */
function effective(level: logLevel | undefined): logLevel | undefined {
  const name = (process.env.KAFKAJS_LOG_LEVEL ?? '').toUpperCase() as keyof typeof logLevel
  return Object.hasOwn(logLevel, name) ? logLevel[name] : level
}

/** The default logCreator: one JSON object per line on the console, the namespace in the message. */
export const consoleLogCreator: logCreator =
  () =>
  ({ namespace, level, label, log }) => {
    const line = JSON.stringify({
      level: label,
      ...log,
      message: namespace ? `[${namespace}] ${log.message}` : log.message,
    })
    if (level === logLevel.ERROR) console.error(line)
    else if (level === logLevel.WARN) console.warn(line)
    else if (level === logLevel.INFO) console.info(line)
    else console.log(line)
  }

/** The root logger of a Kafka instance; namespaces without their own level follow setLogLevel. */
export function createLogger(options: { level?: logLevel; logCreator?: logCreator } = {}): Logger {
  const root = { level: effective(options.level ?? logLevel.INFO) ?? logLevel.INFO }
  const write = (options.logCreator ?? consoleLogCreator)(root.level)
  const make = (namespace: string, own: logLevel | undefined): Logger => {
    const [error, warn, info, debug] = LABELS.map(([label, level]) => (message: string, extra: object = {}) => {
      if (level > (own ?? root.level)) return
      write({
        namespace,
        level,
        label,
        log: { timestamp: new Date().toISOString(), logger: 'kafkajs', message, ...extra },
      })
    })
    return {
      error,
      warn,
      info,
      debug,
      namespace: (name, level) => make(name, effective(level)),
      setLogLevel: (level) => {
        root.level = level
      },
    }
  }
  return make('', undefined)
}

/** Errors in a kafkax log line's fields become their message, as kafkajs logs `error: e.message`. */
function extraOf(fields: object): object {
  const extra: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    extra[key === 'err' ? 'error' : key] = value instanceof Error ? value.message : value
  }
  return extra
}

/** A kafkax Logger (pino-style `(fields, text)` calls) writing to a kafkajs logger. */
export function kafkaxLogger(logger: Logger): KafkaxLogger {
  const method =
    (log: (message: string, extra?: object) => void) =>
    (first: unknown, ...rest: unknown[]) => {
      if (typeof first === 'object' && first !== null && !(first instanceof Error)) log(format(...rest), extraOf(first))
      else log(format(first, ...rest))
    }
  return {
    trace: method(logger.debug),
    debug: method(logger.debug),
    info: method(logger.info),
    warn: method(logger.warn),
    error: method(logger.error),
  }
}
