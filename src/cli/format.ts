// Output of the command line: messages in kcat's `-f` format or as JSON lines, tables as Kafka's
// own tools print them, and a progress line for long runs on a terminal.

import { ConfigError, type Message } from '../index.ts'

/**
 * kcat's format tokens (kcat -f): %t topic, %p partition, %o offset, %k key, %K key length, %s value,
 * %S value length, %T timestamp (ms), %h headers as k=v,k=v, %% a percent sign; \n \t \r \\ escapes.
 * Lengths are -1 for null, as kcat prints them. Keys and values are written as raw bytes.
 */
export function messageFormat(format: string): (m: Message) => Buffer {
  const parts: (string | ((m: Message) => string | Buffer))[] = []
  let text = ''
  const TOKENS: Record<string, (m: Message) => string | Buffer> = {
    t: (m) => m.topic,
    p: (m) => String(m.partition),
    o: (m) => String(m.offset),
    k: (m) => m.key ?? '',
    K: (m) => String(m.key?.length ?? -1),
    s: (m) => m.value ?? '',
    S: (m) => String(m.value?.length ?? -1),
    T: (m) => String(m.timestamp),
    h: (m) => m.headers.map((h) => `${h.key}=${h.value?.toString() ?? ''}`).join(','),
  }
  const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\' }
  for (let i = 0; i < format.length; i++) {
    const c = format[i]
    const next = format[i + 1]
    if (c === '%' && next === '%') {
      text += '%'
      i++
    } else if (c === '%') {
      const token = TOKENS[next]
      if (!token)
        throw new ConfigError(`--format: unknown token %${next ?? ''} (known: %${Object.keys(TOKENS).join(' %')} %%)`)
      if (text) parts.push(text)
      text = ''
      parts.push(token)
      i++
    } else if (c === '\\' && next !== undefined && ESCAPES[next]) {
      text += ESCAPES[next]
      i++
    } else text += c
  }
  if (text) parts.push(text)
  return (m) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p(m)))))
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Bytes as JSON: UTF-8 text when they are valid UTF-8, else `{ "base64": "..." }`; null stays null. */
function bytesJson(bytes: Buffer | null): string | { base64: string } | null {
  if (bytes === null) return null
  try {
    return utf8.decode(bytes)
  } catch {
    return { base64: bytes.toString('base64') }
  }
}

/** One JSON object per message; the offset is a string, exact past 2^53. */
export function messageJson(m: Message): string {
  return JSON.stringify({
    topic: m.topic,
    partition: m.partition,
    offset: String(m.offset),
    timestamp: m.timestamp,
    key: bytesJson(m.key),
    value: bytesJson(m.value),
    headers: m.headers.map((h) => ({ key: h.key, value: bytesJson(h.value) })),
  })
}

/** Rows under a header, columns padded as kafka-consumer-groups.sh prints them. */
export function table(header: string[], rows: (string | number | bigint)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)))
  return `${cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n')}\n`
}

/**
 * `label: N records (R/s)` redrawn every second on stderr while stdout is a terminal (a pipe or a
 * file gets nothing but the data). Data written to the terminal clears the line first.
 */
export class Progress {
  private count = 0
  private readonly started = performance.now()
  private readonly timer: NodeJS.Timeout | undefined
  private shown = false

  constructor(
    private readonly label: string,
    enabled = process.stdout.isTTY === true && process.stderr.isTTY === true,
  ) {
    if (enabled) this.timer = setInterval(() => this.draw(), 1000)
    this.timer?.unref()
  }

  add(n = 1): void {
    this.count += n
  }

  /** Before writing to the terminal: removes the progress line (it comes back on the next tick). */
  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K')
    this.shown = false
  }

  stop(): void {
    clearInterval(this.timer)
    this.clear()
  }

  private draw(): void {
    const seconds = (performance.now() - this.started) / 1000
    process.stderr.write(`\r\x1b[K${this.label}: ${this.count} records (${Math.round(this.count / seconds)}/s)`)
    this.shown = true
  }
}
