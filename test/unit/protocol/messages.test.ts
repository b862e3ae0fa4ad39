// The generated message codecs against the Java client's own generated classes: for every message
// and every version, random messages (shaped by the same JSON definitions) are encoded by kafkax,
// parsed and re-serialized by Java (scripts/java/MessageRoundTrip.java), and must come back byte for
// byte; kafkax then decodes them to the values it was given.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  camelCase,
  type FieldSpec,
  kebabCase,
  loadDefinitions,
  type MessageSpec,
  parseRange,
} from '../../../scripts/generate/messages.ts'
import { clientsJar, fetchLibs, ROOT, release } from '../../../scripts/kafka/harness.ts'
import { KafkaError } from '../../../src/protocol/errors.ts'
import { JoinGroup, loadApi } from '../../../src/protocol/messages/index.ts'
import type { MessageCodec } from '../../../src/protocol/messages/runtime.ts'
import { Reader, Writer } from '../../../src/protocol/primitives/index.ts'
import { prng } from '../../helpers/prng.ts'

const rel = release('4.3')
fetchLibs(rel)
const specs = loadDefinitions(clientsJar(rel)).filter((s) => s.type !== 'header' && s.validVersions !== 'none')

const inVersions = (s: string | undefined, v: number) => {
  const r = parseRange(s, 'test')
  return r !== null && v >= r.lo && v <= r.hi
}

const PIECES = ['a', 'Z', '0', '-', '.', 'é', '漢', '🙂', ' ']

/** Builds random messages for one message definition, following its versions, nullability and tags. */
class Sampler {
  private readonly common: Map<string, FieldSpec[]>

  constructor(
    private readonly spec: MessageSpec,
    private readonly rand: () => number,
  ) {
    this.common = new Map((spec.commonStructs ?? []).map((c) => [c.name, c.fields]))
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n)
  }

  private fieldsOf(f: FieldSpec): FieldSpec[] {
    return f.fields ?? this.common.get(f.type.replace(/^\[\]/, ''))!
  }

  private flexible(v: number): boolean {
    return inVersions(this.spec.flexibleVersions, v)
  }

  defaultOf(f: FieldSpec): unknown {
    const d = f.default
    if (d === 'null') return null
    if (f.type.startsWith('[]')) return []
    switch (f.type) {
      case 'string':
        return String(d ?? '')
      case 'bool':
        return d === true || d === 'true'
      case 'int64':
        return BigInt(d ?? 0)
      case 'uuid':
        return '00000000-0000-0000-0000-000000000000'
      case 'bytes':
        return Buffer.alloc(0)
      case 'records':
        return f.nullableVersions ? null : Buffer.alloc(0)
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'uint32':
      case 'float64':
        return Number(d ?? 0)
      default:
        return this.defaults(this.fieldsOf(f))
    }
  }

  private defaults(fields: FieldSpec[]): Record<string, unknown> {
    return Object.fromEntries(fields.map((f) => [camelCase(f.name), this.defaultOf(f)]))
  }

  private scalar(type: string, v: number, f: FieldSpec): unknown {
    const r = this.rand
    switch (type) {
      case 'bool':
        return r() < 0.5
      case 'int8':
        return this.int(256) - 128
      case 'int16':
        return this.int(65536) - 32768
      case 'uint16':
        return this.int(65536)
      case 'int32':
        return this.int(2 ** 32) - 2 ** 31
      case 'uint32':
        return this.int(2 ** 32)
      case 'int64':
        return BigInt.asIntN(64, (BigInt(this.int(2 ** 32)) << 32n) | BigInt(this.int(2 ** 32)))
      case 'float64':
        return (r() - 0.5) * 10 ** this.int(20)
      case 'uuid': {
        const hex = Array.from({ length: 32 }, () => this.int(16).toString(16)).join('')
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
      }
      case 'string':
        return Array.from({ length: this.int(12) }, () => PIECES[this.int(PIECES.length)]).join('')
      case 'bytes':
      case 'records':
        return Buffer.from(Array.from({ length: this.int(24) }, () => this.int(256)))
      default:
        return this.struct({ ...f, fields: this.fieldsOf(f) }, v)
    }
  }

  value(f: FieldSpec, v: number): unknown {
    if (!inVersions(f.versions, v)) return this.defaultOf(f)
    if (inVersions(f.taggedVersions, v) && this.rand() < 0.4) return this.defaultOf(f)
    if (inVersions(f.nullableVersions, v) && this.rand() < 0.2) return null
    if (!f.type.startsWith('[]')) return this.scalar(f.type, v, f)
    const element = f.type.slice(2)
    return Array.from({ length: this.int(4) }, () => this.scalar(element, v, f))
  }

  struct(f: { fields?: FieldSpec[] }, v: number): Record<string, unknown> {
    const s: Record<string, unknown> = {}
    for (const field of f.fields ?? []) s[camelCase(field.name)] = this.value(field, v)
    if (this.flexible(v) && this.rand() < 0.25) {
      // Tags far above any Kafka defines: both sides must keep them as unknown and write them back.
      s.unknownTaggedFields = [{ tag: 500 + this.int(100), data: this.scalar('bytes', v, field0) as Buffer }]
    }
    return s
  }
}

const field0: FieldSpec = { name: 'x', type: 'bytes' }

/** A comparable form: no undefined properties, buffers and bigints as tagged strings. */
function plain(x: unknown): unknown {
  if (typeof x === 'bigint') return `${x}n`
  if (Buffer.isBuffer(x)) return `hex:${x.toString('hex')}`
  if (Array.isArray(x)) return x.map(plain)
  if (x && typeof x === 'object') {
    return Object.fromEntries(
      Object.entries(x)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, plain(v)]),
    )
  }
  return x
}

async function codecOf(spec: MessageSpec): Promise<MessageCodec<any>> {
  const module = await import(`../../../src/protocol/messages/generated/${kebabCase(spec.name)}.ts`)
  return module[spec.name]
}

function encode(codec: MessageCodec<any>, version: number, message: unknown): Buffer {
  const w = new Writer(64)
  codec.write(w, version, message)
  return Buffer.from(w.finish())
}

describe('generated message codecs', () => {
  it('agree with the Java client byte for byte, every message and version', async () => {
    const seed = Number(process.env.KAFKAX_SEED ?? Date.now() % 1_000_000)
    const rand = prng(seed)
    const cases: { spec: MessageSpec; version: number; message: unknown; bytes: Buffer }[] = []
    for (const spec of specs) {
      const codec = await codecOf(spec)
      const range = parseRange(spec.validVersions, spec.name)!
      for (let v = range.lo; v <= range.hi; v++) {
        for (let i = 0; i < 3; i++) {
          const message = new Sampler(spec, rand).struct(spec, v)
          cases.push({ spec, version: v, message, bytes: encode(codec, v, message) })
        }
      }
    }
    const input = cases.map((c) => `${c.spec.name} ${c.version} ${c.bytes.toString('base64')}`).join('\n')
    const java = spawnSync('java', ['-cp', `${rel.libs}/*`, join(ROOT, 'scripts/java/MessageRoundTrip.java')], {
      input,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    })
    assert.equal(java.status, 0, java.stderr)
    const answers = java.stdout.trimEnd().split('\n')
    assert.equal(answers.length, cases.length)
    for (const [i, c] of cases.entries()) {
      const where = `${c.spec.name} v${c.version} (KAFKAX_SEED=${seed})`
      assert.equal(answers[i], c.bytes.toString('base64'), `Java re-serialized ${where} differently`)
      const codec = await codecOf(c.spec)
      const r = new Reader(c.bytes)
      const decoded = codec.read(r, c.version)
      assert.equal(r.remaining(), 0, `${where}: bytes left after decoding`)
      assert.deepEqual(plain(decoded), plain(c.message), `${where}: decoded values differ`)
      assert.deepEqual(encode(codec, c.version, decoded), c.bytes, `${where}: re-encoding differs`)
    }
    assert.ok(cases.length > 1500, `only ${cases.length} cases`)
  })

  it('rejects versions outside the definitions and fields a version cannot carry', async () => {
    const join = (groupInstanceId: string | null) => ({
      groupId: 'g',
      sessionTimeoutMs: 10_000,
      memberId: '',
      groupInstanceId,
      protocolType: 'consumer',
      protocols: [],
    })
    assert.throws(
      () => encode(JoinGroup.request, 10, join(null)),
      (e: unknown) => e instanceof KafkaError && e.type === 'UNSUPPORTED_VERSION',
    )
    // Static membership (v5+) cannot be asked of an older broker: Java refuses too.
    assert.throws(
      () => encode(JoinGroup.request, 4, join('instance-1')),
      (e: unknown) => e instanceof KafkaError && /groupInstanceId/.test(e.message),
    )
    assert.ok(encode(JoinGroup.request, 4, join(null)).length > 0)
    // RebalanceTimeoutMs is ignorable: dropped silently below v1.
    assert.ok(encode(JoinGroup.request, 0, { ...join(null), rebalanceTimeoutMs: 5000 }).length > 0)
  })

  it('lays out ApiVersions v3 as the protocol guide does, and loads rare APIs on demand', async () => {
    const api = await loadApi(18)
    const bytes = encode(api.request, 3, { clientSoftwareName: 'kx', clientSoftwareVersion: '1' })
    // compact strings (length + 1), then an empty tagged-field section
    assert.equal(bytes.toString('hex'), '036b78023100')
    const acls = await loadApi(29)
    assert.equal(acls.name, 'DescribeAcls')
    assert.equal(acls.response.apiKey, 29)
    await assert.rejects(loadApi(9999), /unknown API key/)
  })
})
