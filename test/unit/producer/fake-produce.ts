// What the producer tests' fakes of a broker share: the accumulator their senders drain (small
// batches, a short linger) and the Produce answer (one topic, each partition's index, error code
// and base offset, with the fields a real broker adds).

import { RecordAccumulator } from '../../../src/producer/accumulator.ts'

export function smallAccumulator(): RecordAccumulator {
  return new RecordAccumulator({
    compression: 'none',
    maxMessages: 50,
    maxBytes: 64 * 1024,
    lingerMs: 2,
    bufferMemory: 8 * 1024 * 1024,
    maxBlockMs: 1000,
    report: (error, metadata, callback) => callback?.(error, metadata),
  })
}

export function produceResponse(topic: string, answers: { index: number; errorCode: number; baseOffset: bigint }[]) {
  return {
    responses: [
      {
        name: topic,
        partitionResponses: answers.map((a) => ({
          ...a,
          logAppendTimeMs: -1n,
          logStartOffset: 0n,
          recordErrors: [],
          errorMessage: null,
          currentLeader: { leaderId: -1, leaderEpoch: -1 },
        })),
      },
    ],
    throttleTimeMs: 0,
    nodeEndpoints: [],
  }
}
