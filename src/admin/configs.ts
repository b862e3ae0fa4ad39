// Configs of topics, brokers, broker loggers, client metrics and groups: describe and
// incrementally alter. A broker's own configs are asked of that broker; the rest of any broker.

import { ConfigError } from '../protocol/errors.ts'
import { DescribeConfigsModule, IncrementalAlterConfigsModule, loadApi } from '../protocol/messages/index.ts'
import { answer, itemError, type RequestEngine, type Target } from './engine.ts'
import { list, name, oneOf } from './validate.ts'

// Kafka's enumerations as readable names: the index in each list (or the value) is Kafka's code.
const CONFIG_SOURCES = [
  'unknown',
  'dynamic-topic',
  'dynamic-broker',
  'dynamic-default-broker',
  'static-broker',
  'default',
  'dynamic-broker-logger',
  'client-metrics',
  'group',
] as const
const ALTER_CONFIG_OPS = ['set', 'delete', 'append', 'subtract'] as const
const CONFIG_RESOURCE_TYPES = { topic: 2, broker: 4, 'broker-logger': 8, 'client-metrics': 16, group: 32 } as const

/** Where a config value comes from (DescribeConfigs' ConfigSource). */
export type ConfigSource = (typeof CONFIG_SOURCES)[number]
/** What a config belongs to: a topic, a broker, a broker's loggers, client metrics or a group. */
export type ConfigResourceType = keyof typeof CONFIG_RESOURCE_TYPES
/** IncrementalAlterConfigs operations: `append` and `subtract` work on list values. */
export type AlterConfigOp = (typeof ALTER_CONFIG_OPS)[number]

/** Something that has configs. */
export interface ConfigResource {
  type: ConfigResourceType
  /** Topic name, broker id (`'1'`; `''` for the cluster-wide default), group id... */
  name: string
}

/** One config value as DescribeConfigs answers it. */
export interface ConfigEntry {
  name: string
  /** null when unset or sensitive. */
  value: string | null
  source: ConfigSource
  sensitive: boolean
  readOnly: boolean
  /** The value is Kafka's default (nobody set it). */
  default: boolean
}

/** The changes to one resource's configs. */
export interface AlterConfigsResource extends ConfigResource {
  ops: { key: string; op: AlterConfigOp; value?: string }[]
}

// lazily loaded: importing kafkax must stay cheap
const DescribeConfigs = () => loadApi(DescribeConfigsModule)
const IncrementalAlterConfigs = () => loadApi(IncrementalAlterConfigsModule)

export async function describeConfigs(
  engine: RequestEngine,
  resources: (ConfigResource & { keys?: string[] })[],
): Promise<(ConfigResource & { configs: ConfigEntry[] })[]> {
  list('describeConfigs', resources)
  for (const [i, r] of resources.entries()) resource(`describeConfigs: resources[${i}]`, r)
  await engine.connect()
  const api = await DescribeConfigs()
  return engine.settle(resources, (pending) =>
    engine.byTarget(pending, configTarget, async (target, items) => {
      const response = await engine.send(target, api, () => ({
        resources: items.map((r) => ({
          resourceType: CONFIG_RESOURCE_TYPES[r.type],
          resourceName: r.name,
          configurationKeys: r.keys ?? null,
        })),
      }))
      const byKey = new Map(response.results.map((r) => [`${r.resourceType}:${r.resourceName}`, r]))
      return items.map((item) => {
        const r = answer(byKey, `${CONFIG_RESOURCE_TYPES[item.type]}:${item.name}`, 'DescribeConfigs')
        if (r.errorCode) return itemError(r.errorCode, `${item.type} ${item.name}`, r.errorMessage)
        const configs = r.configs.map((c) => {
          const source = CONFIG_SOURCES[c.configSource] ?? 'unknown'
          return {
            name: c.name,
            value: c.value,
            source,
            sensitive: c.isSensitive,
            readOnly: c.readOnly,
            default: source === 'default',
          }
        })
        return { type: item.type, name: item.name, configs }
      })
    }),
  )
}

export async function incrementalAlterConfigs(
  engine: RequestEngine,
  resources: AlterConfigsResource[],
  options: { validateOnly?: boolean },
): Promise<void> {
  list('incrementalAlterConfigs', resources)
  resources.forEach((r, i) => {
    const at = `incrementalAlterConfigs: resources[${i}]`
    resource(at, r)
    list(`${at}.ops`, r.ops)
    r.ops.forEach((o, j) => {
      name(`${at}.ops[${j}].key`, o?.key)
      oneOf(`${at}.ops[${j}].op`, o.op, ALTER_CONFIG_OPS)
      if (o.op !== 'delete' && typeof o.value !== 'string') {
        throw new ConfigError(`${at}.ops[${j}].value must be a string for op '${o.op}'`)
      }
    })
  })
  await engine.connect()
  const api = await IncrementalAlterConfigs()
  await engine.settle(resources, (pending) =>
    engine.byTarget(pending, configTarget, async (target, items) => {
      const response = await engine.send(target, api, () => ({
        resources: items.map((r) => ({
          resourceType: CONFIG_RESOURCE_TYPES[r.type],
          resourceName: r.name,
          configs: r.ops.map((o) => ({
            name: o.key,
            configOperation: ALTER_CONFIG_OPS.indexOf(o.op),
            value: o.op === 'delete' ? null : (o.value ?? null),
          })),
        })),
        validateOnly: options.validateOnly ?? false,
      }))
      const byKey = new Map(response.responses.map((r) => [`${r.resourceType}:${r.resourceName}`, r]))
      return items.map((item) => {
        const r = answer(byKey, `${CONFIG_RESOURCE_TYPES[item.type]}:${item.name}`, 'IncrementalAlterConfigs')
        return r.errorCode ? itemError(r.errorCode, `${item.type} ${item.name}`, r.errorMessage) : undefined
      })
    }),
  )
}

/** Broker configs live on each broker: they are asked of that broker; the rest of any broker. */
function configTarget(r: ConfigResource): Target {
  return (r.type === 'broker' || r.type === 'broker-logger') && /^\d+$/.test(r.name) ? Number(r.name) : 'any'
}

function resource(at: string, r: ConfigResource): void {
  if (r === null || typeof r !== 'object') throw new ConfigError(`${at} must be an object`)
  oneOf(`${at}.type`, r.type, Object.keys(CONFIG_RESOURCE_TYPES))
  if (typeof r.name !== 'string' || (r.type !== 'broker' && r.name === '')) {
    throw new ConfigError(
      `${at}.name must be a ${r.type === 'broker' ? '' : 'non-empty '}string, got ${JSON.stringify(r.name)}`,
    )
  }
}
