// kafkax ping: is the cluster there, and how fast does it answer?

import { Admin } from '../index.ts'
import { type Command, connectionConfig, integer, positionals } from './args.ts'

export const ping: Command = {
  name: 'ping',
  summary: 'check that the cluster answers, and how fast',
  usage: ['ping [-n COUNT]'],
  description: 'Connects (TLS and SASL included), then times Metadata round trips. Exit 3 when unreachable.',
  options: { count: { short: 'n', value: 'N', help: 'round trips to time (default 1), a second apart' } },
  async run(args) {
    positionals(ping, args, 'no argument', 0)
    const count = integer(args, 'count', 1) ?? 1
    const admin = new Admin(connectionConfig(args).admin)
    try {
      const { clusterId } = await admin.describeCluster()
      for (let i = 0; i < count; i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1000))
        const ms = await admin.ping()
        process.stdout.write(`cluster ${clusterId} answered in ${ms.toFixed(1)} ms\n`)
      }
    } finally {
      await admin.close()
    }
    return 0
  },
}
