// kafkax cluster: the brokers and the controller, the feature levels, and the API versions every
// broker supports (as kafka-broker-api-versions.sh and kafka-features.sh describe).

import { Admin } from '../index.ts'
import { type Command, connectionConfig, positionals, usageError } from './args.ts'
import { table } from './format.ts'

const SUBCOMMANDS = ['brokers', 'features', 'versions']

export const cluster: Command = {
  name: 'cluster',
  summary: 'brokers, controller, feature levels and the API versions of each broker',
  usage: ['cluster [brokers]', 'cluster features', 'cluster versions'],
  description: [
    'brokers: the cluster id, the controller and every broker with its rack.',
    'features: each feature with the levels the broker supports and the finalized cluster-wide level.',
    'versions: per broker, each API with the versions it supports and the one kafkax uses.',
  ].join('\n'),
  options: {},
  async run(args) {
    const [sub = 'brokers', ...rest] = args.positionals
    if (!SUBCOMMANDS.includes(sub)) usageError(cluster, `unknown subcommand ${sub}: use ${SUBCOMMANDS.join(', ')}`)
    positionals(cluster, { ...args, positionals: rest }, 'nothing more', 0)
    const admin = new Admin(connectionConfig(args).admin)
    try {
      if (sub === 'brokers') {
        const c = await admin.describeCluster()
        process.stdout.write(`cluster ${c.clusterId}, controller ${c.controller}\n`)
        process.stdout.write(
          table(
            ['ID', 'HOST', 'PORT', 'RACK', 'CONTROLLER'],
            c.brokers.map((b) => [b.nodeId, b.host, b.port, b.rack ?? '-', b.nodeId === c.controller ? 'yes' : '']),
          ),
        )
      } else if (sub === 'features') {
        const f = await admin.describeFeatures()
        const finalized = new Map(f.finalized.map((x) => [x.name, x]))
        const rows = f.supported
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((s) => {
            const level = finalized.get(s.name)
            return [s.name, `${s.minVersion}-${s.maxVersion}`, level ? String(level.maxVersionLevel) : '-']
          })
        process.stdout.write(table(['FEATURE', 'SUPPORTED', 'FINALIZED'], rows))
        process.stdout.write(`finalized epoch ${f.finalizedEpoch}\n`)
      } else {
        for (const b of await admin.brokerApiVersions()) {
          process.stdout.write(`${b.host}:${b.port} (id: ${b.nodeId}) -> (\n`)
          for (const api of b.apis) {
            const usable = api.usable < 0 ? 'UNUSABLE' : `usable: ${api.usable}`
            // as kafka-broker-api-versions.sh: `min to max`, or `min` alone when they are equal
            const range = api.minVersion === api.maxVersion ? api.minVersion : `${api.minVersion} to ${api.maxVersion}`
            process.stdout.write(`\t${api.name}(${api.apiKey}): ${range} [${usable}],\n`)
          }
          process.stdout.write(')\n')
        }
      }
    } finally {
      await admin.close()
    }
    return 0
  },
}
