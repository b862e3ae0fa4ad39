// DescribeConfigs (v1-4), AlterConfigs (v0-2) and IncrementalAlterConfigs (v0-1) for topics, and
// DescribeConfigs for brokers. Config sources follow Kafka's ConfigSource ids; a changed
// retention or segment size applies to the partitions' logs at once.

import { ErrorCode } from '../../protocol/error-codes.ts'
import { AlterConfigsRequest } from '../../protocol/messages/generated/alter-configs-request.ts'
import { AlterConfigsResponse } from '../../protocol/messages/generated/alter-configs-response.ts'
import { DescribeConfigsRequest } from '../../protocol/messages/generated/describe-configs-request.ts'
import {
  type DescribeConfigsResourceResult,
  DescribeConfigsResponse,
} from '../../protocol/messages/generated/describe-configs-response.ts'
import { IncrementalAlterConfigsRequest } from '../../protocol/messages/generated/incremental-alter-configs-request.ts'
import { IncrementalAlterConfigsResponse } from '../../protocol/messages/generated/incremental-alter-configs-response.ts'
import { api } from '../../protocol/messages/index.ts'
import type { ApiHandler, RequestContext } from '../api-handler.ts'
import { brokerConfigs } from '../broker-configs.ts'
import { CONFIG_TYPE_IDS, invalidTopicConfig, TOPIC_CONFIGS } from '../topic-configs.ts'
import type { Topic } from '../topics.ts'

const TOPIC = 2
const BROKER = 4
// ConfigSource ids (DescribeConfigsResponse)
const DYNAMIC_TOPIC_CONFIG = 1
const STATIC_BROKER_CONFIG = 4
const DEFAULT_CONFIG = 5

// IncrementalAlterConfigs operations (AlterConfigOp.OpType)
const SET = 0
const DELETE = 1
const APPEND = 2
const SUBTRACT = 3

export function describeTopicConfigs(topic: Topic, keys: readonly string[] | null): DescribeConfigsResourceResult[] {
  const names =
    keys === null || keys.length === 0 ? [...TOPIC_CONFIGS.keys()] : keys.filter((k) => TOPIC_CONFIGS.has(k))
  return names.map((name) => {
    const set = topic.configs.has(name)
    const brokerSet = name === 'retention.bytes' && topic.defaultConfig(name) !== TOPIC_CONFIGS.get(name)!.default
    const configSource = set ? DYNAMIC_TOPIC_CONFIG : brokerSet ? STATIC_BROKER_CONFIG : DEFAULT_CONFIG
    const value = topic.config(name)
    return {
      name,
      value,
      readOnly: false,
      configSource,
      isSensitive: false,
      synonyms: [{ name, value, source: configSource }],
      configType: CONFIG_TYPE_IDS[TOPIC_CONFIGS.get(name)!.type],
      documentation: null,
    }
  })
}

export const describeConfigs: ApiHandler<DescribeConfigsRequest, DescribeConfigsResponse> = {
  api: api(DescribeConfigsRequest, DescribeConfigsResponse),
  minVersion: 1,
  maxVersion: 4,
  handle(request, ctx) {
    const { cluster } = ctx
    return {
      throttleTimeMs: 0,
      results: request.resources.map((r) => {
        const answer = (
          errorCode: number,
          errorMessage: string | null,
          configs: DescribeConfigsResourceResult[] = [],
        ) => ({
          errorCode,
          errorMessage,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          configs: configs.map((c) => ({ ...c, synonyms: request.includeSynonyms ? c.synonyms : [] })),
        })
        if (r.resourceType === TOPIC) {
          const topic = cluster.topics.get(r.resourceName)
          if (!topic)
            return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${r.resourceName}' does not exist.`)
          return answer(ErrorCode.NONE, null, describeTopicConfigs(topic, r.configurationKeys))
        }
        if (r.resourceType === BROKER) {
          const nodeId = r.resourceName === '' ? ctx.broker.nodeId : Number(r.resourceName)
          if (!cluster.nodes.has(nodeId))
            return answer(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${ctx.broker.nodeId}`)
          const keys = r.configurationKeys
          const configs = brokerConfigs(cluster, nodeId, cluster.staticBrokerConfigs)
            .filter((c) => keys === null || keys.length === 0 || keys.includes(c.name))
            .map((c) => {
              const configSource = c.isDefault ? DEFAULT_CONFIG : STATIC_BROKER_CONFIG
              return {
                name: c.name,
                value: c.value,
                readOnly: c.readOnly,
                configSource,
                isSensitive: false,
                synonyms: [{ name: c.name, value: c.value, source: configSource }],
                configType: CONFIG_TYPE_IDS.STRING,
                documentation: null,
              }
            })
          return answer(ErrorCode.NONE, null, configs)
        }
        return answer(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${r.resourceType}`)
      }),
    }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: request.resources.map((r) => ({
        errorCode,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: [],
      })),
    }
  },
}

/** Applies new topic configs to a topic's logs (retention, segment size). */
function apply(ctx: RequestContext, topic: Topic, configs: Map<string, string>): void {
  topic.configs.clear()
  for (const [k, v] of configs) topic.configs.set(k, v)
  const options = topic.logOptions()
  for (const p of topic.partitions) p.log.reconfigure(options, ctx.cluster.clock.now())
}

/** The error response of both alter APIs: every resource failing alike. */
function everyResourceFailing(
  request: { resources: { resourceType: number; resourceName: string }[] },
  errorCode: number,
) {
  return {
    throttleTimeMs: 0,
    responses: request.resources.map((r) => ({
      errorCode,
      errorMessage: null,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    })),
  }
}

/** Both alter APIs: each resource changed by `change`, or its error. */
function alterEach<R extends { resourceType: number; resourceName: string }>(
  ctx: RequestContext,
  request: { resources: R[]; validateOnly: boolean },
  change: (resource: R, configs: Map<string, string>) => string | undefined,
) {
  return {
    throttleTimeMs: 0,
    responses: request.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      ...alterTopic(ctx, r.resourceType, r.resourceName, request.validateOnly, (configs) => change(r, configs)),
    })),
  }
}

/** The result of altering one resource, or its error. */
function alterTopic(
  ctx: RequestContext,
  resourceType: number,
  name: string,
  validateOnly: boolean,
  change: (configs: Map<string, string>) => string | undefined,
): { errorCode: number; errorMessage: string | null } {
  if (resourceType === BROKER)
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'The fake cluster has no dynamic broker configs' }
  if (resourceType !== TOPIC)
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${resourceType}` }
  const topic = ctx.cluster.topics.get(name)
  if (!topic)
    return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `The topic '${name}' does not exist.` }
  const configs = new Map(topic.configs)
  const problem = change(configs)
  if (problem) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem }
  if (!validateOnly) apply(ctx, topic, configs)
  return { errorCode: ErrorCode.NONE, errorMessage: null }
}

export const alterConfigs: ApiHandler<AlterConfigsRequest, AlterConfigsResponse> = {
  api: api(AlterConfigsRequest, AlterConfigsResponse),
  minVersion: 0,
  maxVersion: 2,
  handle(request, ctx) {
    // the legacy API replaces the whole set
    return alterEach(ctx, request, (r, configs) => {
      configs.clear()
      for (const c of r.configs) {
        const problem = invalidTopicConfig(c.name, c.value)
        if (problem) return problem
        if (c.value !== null) configs.set(c.name, c.value)
      }
      return undefined
    })
  },
  errorResponse: everyResourceFailing,
}

export const incrementalAlterConfigs: ApiHandler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse> = {
  api: api(IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse),
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    return alterEach(ctx, request, (r, configs) => {
      const topic = ctx.cluster.topics.get(r.resourceName)!
      for (const c of r.configs) {
        const def = TOPIC_CONFIGS.get(c.name)
        if (!def) return `Unknown topic config name: ${c.name}`
        const current = (configs.get(c.name) ?? topic.defaultConfig(c.name)).split(',').filter(Boolean)
        const given = (c.value ?? '').split(',').filter(Boolean)
        let value: string | null
        if (c.configOperation === SET) value = c.value
        else if (c.configOperation === DELETE) value = null
        else if (c.configOperation === APPEND || c.configOperation === SUBTRACT) {
          if (def.type !== 'LIST') return `Config value append is not allowed for config key: ${c.name}`
          value =
            c.configOperation === APPEND
              ? [...current, ...given.filter((v) => !current.includes(v))].join(',')
              : current.filter((v) => !given.includes(v)).join(',')
        } else return `Unknown config operation ${c.configOperation}`
        const problem = invalidTopicConfig(c.name, value)
        if (problem) return problem
        if (value === null) configs.delete(c.name)
        else configs.set(c.name, value)
      }
      return undefined
    })
  },
  errorResponse: everyResourceFailing,
}
