// A Java KafkaConsumer in the same group as kafkax members: Kafka's VerifiableConsumer tool, which
// prints every assignment, revocation, record and commit as a JSON line. Here its partitions as it
// reports them and the values of the records it consumed (with --verbose).

import { type ChildProcess, spawn } from 'node:child_process'
import { toolArgs } from '../../scripts/kafka/harness.ts'

export interface VerifiableConsumerOptions {
  bootstrap: string
  topic: string
  groupId: string
  /** 'classic' (JoinGroup, the Java client's assignors) or 'consumer' (KIP-848). */
  protocol: 'classic' | 'consumer'
  /** The classic assignor (e.g. CooperativeStickyAssignor); default: the tool's (range). */
  assignmentStrategy?: string
}

export class VerifiableConsumer {
  readonly process: ChildProcess
  /** The partitions it owns now, as `topic-partition`. */
  readonly owned = new Set<string>()
  /** Values of the records it consumed, with how often. */
  readonly seen = new Map<string, number>()
  /** Every JSON event it printed, in order. */
  readonly events: { name: string; [key: string]: unknown }[] = []
  private exited = false
  private readonly exit: Promise<void>

  constructor(o: VerifiableConsumerOptions) {
    const args = [
      '--bootstrap-server',
      o.bootstrap,
      '--topic',
      o.topic,
      '--group-id',
      o.groupId,
      '--group-protocol',
      o.protocol,
      '--reset-policy',
      'earliest',
      '--verbose',
      ...(o.assignmentStrategy ? ['--assignment-strategy', o.assignmentStrategy] : []),
    ]
    this.process = spawn('java', toolArgs('org.apache.kafka.tools.VerifiableConsumer', args), {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    this.exit = new Promise((resolve) =>
      this.process.once('exit', () => {
        this.exited = true
        resolve()
      }),
    )
    let buffered = ''
    this.process.stdout!.on('data', (chunk) => {
      buffered += chunk
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) if (line.startsWith('{')) this.event(JSON.parse(line))
    })
  }

  private event(e: { name: string; [key: string]: any }): void {
    this.events.push(e)
    const key = (p: { topic: string; partition: number }) => `${p.topic}-${p.partition}`
    if (e.name === 'partitions_assigned') for (const p of e.partitions) this.owned.add(key(p))
    else if (e.name === 'partitions_revoked') for (const p of e.partitions) this.owned.delete(key(p))
    else if (e.name === 'record_data') this.seen.set(e.value, (this.seen.get(e.value) ?? 0) + 1)
  }

  /** SIGTERM: the tool closes its consumer (commit, leave) and exits. */
  async stop(): Promise<void> {
    if (!this.exited) this.process.kill('SIGTERM')
    await this.exit
  }

  async kill(): Promise<void> {
    if (!this.exited) this.process.kill('SIGKILL')
    await this.exit
  }
}
