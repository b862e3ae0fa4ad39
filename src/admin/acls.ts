// Access control lists: create, describe, delete (an authorizer must be configured on the brokers).

import { kafkaError } from '../protocol/error-codes.ts'
import { ConfigError, ProtocolError } from '../protocol/errors.ts'
import { CreateAclsModule, DeleteAclsModule, DescribeAclsModule, loadApi } from '../protocol/messages/index.ts'
import { itemError, type RequestEngine } from './engine.ts'
import { list, name, oneOf } from './validate.ts'

// Kafka's enumerations as readable names: the index in each list is Kafka's code.
const ACL_RESOURCE_TYPES = [
  'unknown',
  'any',
  'topic',
  'group',
  'cluster',
  'transactional-id',
  'delegation-token',
  'user',
] as const
const ACL_PATTERN_TYPES = ['unknown', 'any', 'match', 'literal', 'prefixed'] as const
const ACL_OPERATIONS = [
  'unknown',
  'any',
  'all',
  'read',
  'write',
  'create',
  'delete',
  'alter',
  'describe',
  'cluster-action',
  'describe-configs',
  'alter-configs',
  'idempotent-write',
  'create-tokens',
  'describe-tokens',
  'two-phase-commit',
] as const
const ACL_PERMISSIONS = ['unknown', 'any', 'deny', 'allow'] as const

/** What an ACL protects. */
export type AclResourceType = Exclude<(typeof ACL_RESOURCE_TYPES)[number], 'unknown'>
/** How an ACL's resource name matches: exactly (`literal`), as a prefix, or (filters) any or `match`. */
export type AclPatternType = Exclude<(typeof ACL_PATTERN_TYPES)[number], 'unknown'>
/** The operation an ACL allows or denies. */
export type AclOperation = Exclude<(typeof ACL_OPERATIONS)[number], 'unknown'>
/** Whether an ACL allows or denies. */
export type AclPermission = Exclude<(typeof ACL_PERMISSIONS)[number], 'unknown'>

/** An access control entry: who may (or may not) do what on which resource, from which host. */
export interface Acl {
  resourceType: AclResourceType
  resourceName: string
  /** Default 'literal'. */
  patternType?: AclPatternType
  /** e.g. 'User:alice'. */
  principal: string
  /** Default '*'. */
  host?: string
  operation: AclOperation
  permission: AclPermission
}

/** Every field left out matches anything. */
export interface AclFilter {
  resourceType?: AclResourceType
  resourceName?: string | null
  patternType?: AclPatternType
  principal?: string | null
  host?: string | null
  operation?: AclOperation
  permission?: AclPermission
}

// lazily loaded: importing kafkax must stay cheap
const DescribeAcls = () => loadApi(DescribeAclsModule)
const CreateAcls = () => loadApi(CreateAclsModule)
const DeleteAcls = () => loadApi(DeleteAclsModule)

export async function createAcls(engine: RequestEngine, acls: Acl[]): Promise<void> {
  list('createAcls', acls)
  const creations = acls.map((a, i) => aclCodes(`createAcls: acls[${i}]`, a, false))
  await engine.connect()
  const api = await CreateAcls()
  const indexes = acls.map((_, i) => i)
  await engine.settle(indexes, async (pending) => {
    const response = await engine.send('any', api, () => ({
      creations: pending.map((i) => {
        const c = creations[i]
        return { ...c, resourceName: c.resourceName ?? '', principal: c.principal ?? '', host: c.host ?? '*' }
      }),
    }))
    return pending.map((i, k) => {
      const r = response.results[k]
      if (!r) throw new ProtocolError('CreateAcls answer lacks results')
      return r.errorCode ? itemError(r.errorCode, `ACL ${describeAcl(acls[i])}`, r.errorMessage) : undefined
    })
  })
}

export async function describeAcls(engine: RequestEngine, filter: AclFilter): Promise<Acl[]> {
  const f = aclCodes('describeAcls: filter', filter, true)
  await engine.connect()
  const api = await DescribeAcls()
  const response = await engine.run(async () => {
    const r = await engine.send('any', api, () => filterFields(f))
    if (r.errorCode) throw kafkaError(r.errorCode, r.errorMessage)
    return r
  })
  return response.resources.flatMap((res) =>
    res.acls.map((a) =>
      aclOf({ ...a, resourceType: res.resourceType, resourceName: res.resourceName, patternType: res.patternType }),
    ),
  )
}

export async function deleteAcls(engine: RequestEngine, filters: AclFilter[]): Promise<Acl[]> {
  list('deleteAcls', filters)
  const codes = filters.map((f, i) => aclCodes(`deleteAcls: filters[${i}]`, f, true))
  await engine.connect()
  const api = await DeleteAcls()
  const deleted = await engine.settle(
    filters.map((_, i) => i),
    async (pending) => {
      const response = await engine.send('any', api, () => ({
        filters: pending.map((i) => filterFields(codes[i])),
      }))
      return pending.map((i, k) => {
        const r = response.filterResults[k]
        if (!r) throw new ProtocolError('DeleteAcls answer lacks results')
        if (r.errorCode) return itemError(r.errorCode, `ACL filter ${JSON.stringify(filters[i])}`, r.errorMessage)
        const failed = r.matchingAcls.find((m) => m.errorCode)
        if (failed) return itemError(failed.errorCode, `ACL ${describeAcl(aclOf(failed))}`, failed.errorMessage)
        return r.matchingAcls.map(aclOf)
      })
    },
  )
  return deleted.flat()
}

function aclOf(a: {
  resourceType: number
  resourceName: string
  patternType: number
  principal: string
  host: string
  operation: number
  permissionType: number
}): Acl {
  return {
    resourceType: ACL_RESOURCE_TYPES[a.resourceType] as AclResourceType,
    resourceName: a.resourceName,
    patternType: ACL_PATTERN_TYPES[a.patternType] as AclPatternType,
    principal: a.principal,
    host: a.host,
    operation: ACL_OPERATIONS[a.operation] as AclOperation,
    permission: ACL_PERMISSIONS[a.permissionType] as AclPermission,
  }
}

function describeAcl(a: Acl): string {
  return `${a.permission} ${a.principal} ${a.operation} on ${a.resourceType} ${a.resourceName}`
}

/** An ACL or filter as Kafka's codes; in filters, fields left out match anything. */
function aclCodes(at: string, a: AclFilter, filter: boolean) {
  if (a === null || typeof a !== 'object') throw new ConfigError(`${at} must be an object`)
  const code = (field: string, value: string | undefined, table: readonly string[], fallback?: string) => {
    const v = value ?? fallback ?? (filter ? 'any' : undefined)
    if (!filter && v === 'any') throw new ConfigError(`${at}.${field}: 'any' is only for filters`)
    return oneOf(`${at}.${field}`, v, table.slice(1))
  }
  const text = (field: string, value: string | null | undefined) => {
    if (filter && (value === undefined || value === null)) return null
    return name(`${at}.${field}`, value)
  }
  return {
    resourceType: code('resourceType', a.resourceType, ACL_RESOURCE_TYPES) + 1,
    resourceName: text('resourceName', a.resourceName),
    resourcePatternType: code('patternType', a.patternType, ACL_PATTERN_TYPES, filter ? undefined : 'literal') + 1,
    principal: text('principal', a.principal),
    host: filter ? (a.host ?? null) : (a.host ?? '*'),
    operation: code('operation', a.operation, ACL_OPERATIONS) + 1,
    permissionType: code('permission', a.permission, ACL_PERMISSIONS) + 1,
  }
}

/** A filter's codes as DescribeAcls and DeleteAcls name them. */
function filterFields(f: ReturnType<typeof aclCodes>) {
  return {
    resourceTypeFilter: f.resourceType,
    resourceNameFilter: f.resourceName,
    patternTypeFilter: f.resourcePatternType,
    principalFilter: f.principal,
    hostFilter: f.host,
    operation: f.operation,
    permissionType: f.permissionType,
  }
}
