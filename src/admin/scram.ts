// SCRAM credentials (KIP-554): create or replace, delete, describe. The salted password is
// computed here, so the password never leaves the client.

import { pbkdf2, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { kafkaError } from '../protocol/error-codes.ts'
import { ConfigError, type KafkaError } from '../protocol/errors.ts'
import type { AlterUserScramCredentialsRequest } from '../protocol/messages/generated/alter-user-scram-credentials-request.ts'
import {
  AlterUserScramCredentialsModule,
  DescribeUserScramCredentialsModule,
  loadApi,
} from '../protocol/messages/index.ts'
import { answer, itemError, type RequestEngine, withItems } from './engine.ts'
import { int, list, name, names, oneOf } from './validate.ts'

const SCRAM_MECHANISMS = {
  'SCRAM-SHA-256': { code: 1, digest: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { code: 2, digest: 'sha512', bytes: 64 },
} as const

/** The SCRAM mechanisms Kafka stores credentials for. */
export type ScramMechanism = keyof typeof SCRAM_MECHANISMS

/** A SCRAM credential to create or replace. */
export interface ScramUpsertion {
  user: string
  mechanism: ScramMechanism
  password: string
  /** Default 4096, Kafka's minimum; at most 16384. */
  iterations?: number
}

// lazily loaded: importing kafkax must stay cheap
const DescribeScram = () => loadApi(DescribeUserScramCredentialsModule)
const AlterScram = () => loadApi(AlterUserScramCredentialsModule)

const pbkdf2Async = promisify(pbkdf2)

export async function upsertScramCredentials(engine: RequestEngine, credentials: ScramUpsertion[]): Promise<void> {
  list('upsertScramCredentials', credentials)
  credentials.forEach((c, i) => {
    const at = `upsertScramCredentials: credentials[${i}]`
    name(`${at}.user`, c?.user)
    scramMechanism(`${at}.mechanism`, c.mechanism)
    if (typeof c.password !== 'string' || c.password === '')
      throw new ConfigError(`${at}.password must be a non-empty string`)
    if (c.iterations !== undefined) int(`${at}.iterations`, c.iterations, 4096, 16384)
  })
  await engine.connect()
  const upsertions = await Promise.all(
    credentials.map(async (c) => {
      const m = SCRAM_MECHANISMS[c.mechanism]
      const iterations = c.iterations ?? 4096
      const salt = randomBytes(32)
      // RFC 5802's Hi() is PBKDF2 with the mechanism's hash
      const saltedPassword = await pbkdf2Async(c.password, salt, iterations, m.bytes, m.digest)
      return { name: c.user, mechanism: m.code, iterations, salt, saltedPassword }
    }),
  )
  await alterScram(engine, credentials, (pending) => ({
    deletions: [],
    upsertions: pending.map((c) => upsertions[credentials.indexOf(c)]),
  }))
}

export async function deleteScramCredentials(
  engine: RequestEngine,
  credentials: { user: string; mechanism: ScramMechanism }[],
): Promise<void> {
  list('deleteScramCredentials', credentials)
  credentials.forEach((c, i) => {
    name(`deleteScramCredentials: credentials[${i}].user`, c?.user)
    scramMechanism(`deleteScramCredentials: credentials[${i}].mechanism`, c.mechanism)
  })
  await engine.connect()
  await alterScram(engine, credentials, (pending) => ({
    deletions: pending.map((c) => ({ name: c.user, mechanism: SCRAM_MECHANISMS[c.mechanism].code })),
    upsertions: [],
  }))
}

export async function describeScramCredentials(
  engine: RequestEngine,
  users?: string[],
): Promise<{ user: string; credentials: { mechanism: ScramMechanism; iterations: number }[] }[]> {
  if (users !== undefined) names('describeScramCredentials', users)
  await engine.connect()
  const api = await DescribeScram()
  const response = await engine.run(async () => {
    const r = await engine.send('any', api, () => ({ users: users ? users.map((name) => ({ name })) : null }))
    if (r.errorCode) throw kafkaError(r.errorCode, r.errorMessage)
    return r
  })
  const failed = response.results.filter((r) => r.errorCode)
  if (failed.length > 0) {
    throw withItems(
      failed.map((r) => ({ item: r.user, error: itemError(r.errorCode, `user ${r.user}`, r.errorMessage) })),
    )
  }
  return response.results.map((r) => ({
    user: r.user,
    credentials: r.credentialInfos.map((c) => ({
      mechanism: c.mechanism === 1 ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512',
      iterations: c.iterations,
    })),
  }))
}

async function alterScram<I extends { user: string }>(
  engine: RequestEngine,
  items: I[],
  body: (pending: I[]) => AlterUserScramCredentialsRequest,
): Promise<void> {
  const api = await AlterScram()
  await engine.settle(items, async (pending) => {
    // the broker refuses a user twice in one request: the k-th alteration of each user goes in request k
    const rounds: I[][] = []
    const seen = new Map<string, number>()
    for (const c of pending) {
      const k = seen.get(c.user) ?? 0
      seen.set(c.user, k + 1)
      if (k === rounds.length) rounds.push([])
      rounds[k].push(c)
    }
    const outcomes = new Map<I, KafkaError | undefined>()
    for (const round of rounds) {
      const response = await engine.send('any', api, () => body(round))
      const byUser = new Map(response.results.map((r) => [r.user, r]))
      for (const c of round) {
        const r = answer(byUser, c.user, 'AlterUserScramCredentials')
        outcomes.set(c, r.errorCode ? itemError(r.errorCode, `user ${c.user}`, r.errorMessage) : undefined)
      }
    }
    return pending.map((c) => outcomes.get(c))
  })
}

function scramMechanism(at: string, value: unknown): void {
  oneOf(at, value, Object.keys(SCRAM_MECHANISMS))
}
