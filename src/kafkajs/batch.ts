// kafkajs's view of fetched records: each kafkax Message as kafkajs's KafkaMessage (offset and
// timestamp as decimal strings, headers as an object whose repeated keys hold arrays), and the
// Batch eachBatch gets (one partition's fetched messages, its high watermark and lag helpers).

import type { Message } from '../index.ts'
import type { Batch as BatchShape, IHeaders, KafkaMessage } from './types.ts'

/** Headers as kafkajs decodes them: a key's value, or every value in order when the key repeats. */
function headersOf(headers: Message['headers']): IHeaders {
  const out: Record<string, any> = {}
  for (const { key, value } of headers) {
    const seen = out[key]
    if (seen === undefined) out[key] = value
    else if (Array.isArray(seen)) seen.push(value)
    else out[key] = [seen, value]
  }
  return out
}

/** A kafkax message as kafkajs hands it out. */
export function kafkaMessage(m: Message): KafkaMessage {
  return {
    magicByte: 2,
    attributes: 0,
    timestamp: String(m.timestamp),
    offset: m.offset.toString(),
    key: m.key,
    value: m.value,
    headers: m.headers.length === 0 ? {} : headersOf(m.headers),
    isControlRecord: false,
  }
}

/** One partition's messages as eachBatch gets them. */
export class PartitionBatch implements BatchShape {
  readonly messages: KafkaMessage[]

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** The partition's high watermark (the offset after its last record) when the messages were fetched. */
    readonly highWatermark: string,
    messages: readonly Message[],
  ) {
    this.messages = messages.map(kafkaMessage)
  }

  isEmpty(): boolean {
    return this.messages.length === 0
  }

  firstOffset(): string | null {
    return this.messages.length === 0 ? null : this.messages[0].offset
  }

  /** The last message's offset; for an empty batch the one before the high watermark, as kafkajs. */
  lastOffset(): string {
    return this.messages.length === 0
      ? String(BigInt(this.highWatermark) - 1n)
      : this.messages[this.messages.length - 1].offset
  }

  /** Records after this batch's last one. */
  offsetLag(): string {
    return String(BigInt(this.highWatermark) - 1n - BigInt(this.lastOffset()))
  }

  /** Records after this batch's first one. */
  offsetLagLow(): string {
    if (this.messages.length === 0) return '0'
    return String(BigInt(this.highWatermark) - 1n - BigInt(this.firstOffset()!))
  }
}
