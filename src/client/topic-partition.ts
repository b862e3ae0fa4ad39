// A partition of a topic, and the key kafkax uses for it in maps (every layer above the client uses both).

/** A partition of a topic. */
export interface TopicPartition {
  topic: string
  partition: number
}

export const tpKey = (topic: string, partition: number): string => `${topic}\0${partition}`
