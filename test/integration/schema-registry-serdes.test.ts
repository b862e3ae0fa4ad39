// The serdes against the real registry: Avro, JSON Schema and Protobuf values through encode/decode
// by schema id; interop with @kafkajs/confluent-schema-registry both ways (what it encodes kafkax
// decodes, and the reverse); Avro schema evolution with reader schemas; references between schemas
// (Avro named types, Protobuf imports, JSON Schema $ref); values and bytes that do not fit.

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { SchemaRegistry as KafkajsRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { ConfigError } from '../../src/protocol/errors.ts'
import { SchemaRegistry, SerializationError } from '../../src/schema-registry/index.ts'
import { registryUrl, uniqueName } from '../helpers/registry.ts'

const avroV1 = {
  type: 'record',
  name: 'Payment',
  namespace: 'kafkax.serdes',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
}
const avroV2 = { ...avroV1, fields: [...avroV1.fields, { name: 'currency', type: 'string', default: 'EUR' }] }
/** avsc decodes records into instances of generated classes: compare their fields. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value))

const avroValue = { id: 'p-1', amount: 12.5, tags: ['a', 'b'], note: 'hello' }

const jsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Shipment',
  type: 'object',
  properties: {
    id: { type: 'string' },
    weightKg: { type: 'number', minimum: 0 },
    items: { type: 'array', items: { type: 'string' } },
  },
  required: ['id', 'weightKg'],
  additionalProperties: false,
}
const jsonValue = { id: 's-1', weightKg: 2.25, items: ['book', 'lamp'] }

const proto = `syntax = "proto3";
package kafkax.serdes;

message Invoice {
  string id = 1;
  int64 total_cents = 2;
  Status status = 3;
  repeated Line lines = 4;
  message Line {
    string sku = 1;
    int32 quantity = 2;
  }
}

enum Status {
  DRAFT = 0;
  SENT = 1;
}

message Refund {
  string invoice_id = 1;
}
`
const protoValue = {
  id: 'i-1',
  totalCents: '1999',
  status: 'SENT',
  lines: [
    { sku: 'x', quantity: 2 },
    { sku: 'y', quantity: 1 },
  ],
}

describe('serdes against the real registry', () => {
  const sr = new SchemaRegistry({ url: registryUrl() })
  const kafkajs = new KafkajsRegistry({ host: registryUrl() })
  after(() => sr.close())

  describe('Avro', () => {
    it('encodes and decodes by schema id in the wire format', async () => {
      const { id } = await sr.register(uniqueName('avro-value'), { type: 'AVRO', schema: avroV1 })
      const bytes = await sr.encode(id, avroValue)
      assert.equal(bytes[0], 0)
      assert.equal(bytes.readInt32BE(1), id)
      assert.deepEqual(plain(await sr.decode(bytes)), avroValue)
      const { value, schema } = await sr.decodeWithSchema(bytes)
      assert.deepEqual(plain(value), avroValue)
      assert.equal(schema.id, id)
      assert.deepEqual(JSON.parse(schema.schema), avroV1)
      // a fresh client decodes it from the registry alone
      const other = new SchemaRegistry({ url: registryUrl() })
      assert.deepEqual(plain(await other.decode(bytes)), avroValue)
      other.close()
    })

    it('interoperates with @kafkajs/confluent-schema-registry both ways', async () => {
      const subject = uniqueName('avro-interop-value')
      const { id } = await kafkajs.register({ type: SchemaType.AVRO, schema: JSON.stringify(avroV1) }, { subject })
      assert.deepEqual(await sr.register(subject, { schema: avroV1 }), { id })
      const theirs = await kafkajs.encode(id, avroValue)
      assert.deepEqual(plain(await sr.decode(theirs)), avroValue)
      const ours = await sr.encode(id, avroValue)
      assert.deepEqual(plain(await kafkajs.decode(ours)), avroValue)
      assert.deepEqual(ours, theirs)
    })

    it('resolves data written with v1 into a v2 reader schema, and v2 data into v1', async () => {
      const subject = uniqueName('avro-evolution-value')
      await sr.setCompatibility('BACKWARD', subject).catch(() => undefined)
      const v1 = await sr.register(subject, { schema: avroV1 })
      const v2 = await sr.register(subject, { schema: avroV2 })
      const old = await sr.encode(v1.id, avroValue)
      const current = await sr.encode(v2.id, { ...avroValue, currency: 'USD' })
      assert.deepEqual(plain(await sr.decode(old, { readerSchema: { schema: avroV2 } })), {
        ...avroValue,
        currency: 'EUR',
      })
      assert.deepEqual(plain(await sr.decode(current, { readerSchema: { schema: avroV2 } })), {
        ...avroValue,
        currency: 'USD',
      })
      assert.deepEqual(plain(await sr.decode(current, { readerSchema: { schema: avroV1 } })), avroValue)
      // a reader that cannot read the writer's data
      const unrelated = {
        type: 'record',
        name: 'Payment',
        namespace: 'kafkax.serdes',
        fields: [{ name: 'x', type: 'int' }],
      }
      await assert.rejects(sr.decode(old, { readerSchema: { schema: unrelated } }), SerializationError)
    })

    it('uses references: a named type of another subject', async () => {
      const customerSubject = uniqueName('customer')
      const customer = {
        type: 'record',
        name: 'Customer',
        namespace: 'kafkax.refs',
        fields: [{ name: 'name', type: 'string' }],
      }
      await sr.register(customerSubject, { schema: customer })
      const order = {
        type: 'record',
        name: 'Order',
        namespace: 'kafkax.refs',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'customer', type: 'kafkax.refs.Customer' },
        ],
      }
      const references = [{ name: 'kafkax.refs.Customer', subject: customerSubject, version: 1 }]
      const { id } = await sr.register(uniqueName('order-value'), { schema: order, references })
      assert.deepEqual((await sr.getSchema(id)).references, references)
      const value = { id: 'o-1', customer: { name: 'Ada' } }
      const fresh = new SchemaRegistry({ url: registryUrl() })
      assert.deepEqual(plain(await fresh.decode(await sr.encode(id, value))), value)
      fresh.close()
    })

    it('refuses values that do not match, naming the fields', async () => {
      const { id } = await sr.register(uniqueName('avro-bad-value'), { schema: avroV1 })
      await assert.rejects(sr.encode(id, { ...avroValue, amount: 'twelve' }), (e) => {
        assert.ok(e instanceof SerializationError)
        assert.deepEqual(e.paths, ['amount'])
        assert.equal(e.schemaId, id)
        return true
      })
      await assert.rejects(sr.encode(id, null), SerializationError)
    })
  })

  describe('JSON Schema', () => {
    it('encodes and decodes, validating on produce (and on consume when asked)', async () => {
      const { id } = await sr.register(uniqueName('json-value'), { type: 'JSON', schema: jsonSchema })
      const bytes = await sr.encode(id, jsonValue)
      assert.deepEqual(JSON.parse(bytes.subarray(5).toString()), jsonValue)
      assert.deepEqual(await sr.decode(bytes), jsonValue)
      await assert.rejects(sr.encode(id, { id: 's-2', weightKg: -1 }), (e) => {
        assert.ok(e instanceof SerializationError)
        assert.match(e.paths.join(), /weightKg/)
        return true
      })
      await assert.rejects(sr.encode(id, { weightKg: 1 }), /required property 'id'/)

      // bytes that were never validated: a strict reader refuses them, a default one reads them
      const invalid = Buffer.concat([bytes.subarray(0, 5), Buffer.from('{"id":"s-3","weightKg":-5}')])
      assert.deepEqual(await sr.decode(invalid), { id: 's-3', weightKg: -5 })
      const strict = new SchemaRegistry({ url: registryUrl(), json: { validateOnRead: true } })
      await assert.rejects(strict.decode(invalid), SerializationError)
      strict.close()
      await assert.rejects(
        sr.decode(Buffer.concat([bytes.subarray(0, 5), Buffer.from('{not json')])),
        SerializationError,
      )
    })

    it('interoperates with @kafkajs/confluent-schema-registry both ways', async () => {
      const subject = uniqueName('json-interop-value')
      const { id } = await kafkajs.register({ type: SchemaType.JSON, schema: JSON.stringify(jsonSchema) }, { subject })
      const theirs = await kafkajs.encode(id, jsonValue)
      assert.deepEqual(await sr.decode(theirs), jsonValue)
      assert.deepEqual(await kafkajs.decode(await sr.encode(id, jsonValue)), jsonValue)
    })

    it('uses references: a $ref to a schema of another subject', async () => {
      const addressSubject = uniqueName('address')
      const address = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }
      await sr.register(addressSubject, { type: 'JSON', schema: address })
      const person = {
        type: 'object',
        properties: { name: { type: 'string' }, address: { $ref: 'address.json' } },
        required: ['name', 'address'],
      }
      const { id } = await sr.register(uniqueName('person-value'), {
        type: 'JSON',
        schema: person,
        references: [{ name: 'address.json', subject: addressSubject, version: 1 }],
      })
      const value = { name: 'Ada', address: { city: 'London' } }
      assert.deepEqual(await sr.decode(await sr.encode(id, value)), value)
      // the referenced schema is enforced too
      await assert.rejects(sr.encode(id, { name: 'Ada', address: {} }), SerializationError)
    })
  })

  describe('Protobuf', () => {
    it('encodes with message indexes and decodes any message of the file', async () => {
      const { id } = await sr.register(uniqueName('proto-value'), { type: 'PROTOBUF', schema: proto })
      const invoice = await sr.encode(id, protoValue)
      // [0]: the file's first message is the single index byte 0
      assert.equal(invoice[5], 0)
      assert.deepEqual(await sr.decode(invoice), protoValue)
      const refund = await sr.encode(id, { invoiceId: 'i-1' }, { messageName: 'kafkax.serdes.Refund' })
      // [1]: count 1, index 1, as zigzag varints
      assert.deepEqual([...refund.subarray(5, 7)], [2, 2])
      assert.deepEqual(await sr.decode(refund), { invoiceId: 'i-1' })
      const line = await sr.encode(id, { sku: 'z', quantity: 3 }, { messageName: 'kafkax.serdes.Invoice.Line' })
      assert.deepEqual([...line.subarray(5, 8)], [4, 0, 0])
      assert.deepEqual(await sr.decode(line), { sku: 'z', quantity: 3 })
      await assert.rejects(sr.encode(id, { ...protoValue, lines: 'none' }), SerializationError)
      await assert.rejects(sr.encode(id, protoValue, { messageName: 'kafkax.serdes.Nope' }), ConfigError)
    })

    it('interoperates with @kafkajs/confluent-schema-registry both ways', async () => {
      const subject = uniqueName('proto-interop-value')
      const { id } = await kafkajs.register({ type: SchemaType.PROTOBUF, schema: proto }, { subject })
      // it reads Confluent's message indexes of the first message (it skips leading zero bytes)
      const fromKafkax = (await kafkajs.decode(await sr.encode(id, protoValue))) as { toJSON(): unknown }
      assert.deepEqual(fromKafkax.toJSON(), { id: 'i-1', totalCents: '1999', status: 'SENT', lines: protoValue.lines })
      // it writes no message indexes: kafkax reads that with messageIndexes 'none'
      const theirs = await kafkajs.encode(id, { ...protoValue, status: 1, totalCents: 1999 })
      const compatible = new SchemaRegistry({ url: registryUrl(), protobuf: { messageIndexes: 'none' } })
      assert.deepEqual(await compatible.decode(theirs), protoValue)
      // and writes what it reads
      const fromCompatible = (await kafkajs.decode(await compatible.encode(id, protoValue))) as { id: string }
      assert.equal(fromCompatible.id, 'i-1')
      compatible.close()
    })

    it('uses references: an imported .proto file of another subject, and well-known types', async () => {
      const moneySubject = uniqueName('money')
      const money =
        'syntax = "proto3";\npackage kafkax.common;\nmessage Money { string currency = 1; int64 units = 2; }\n'
      await sr.register(moneySubject, { type: 'PROTOBUF', schema: money })
      const price = `syntax = "proto3";
package kafkax.shop;
import "money.proto";
import "google/protobuf/timestamp.proto";
message Price { string sku = 1; kafkax.common.Money amount = 2; google.protobuf.Timestamp at = 3; }
`
      const { id } = await sr.register(uniqueName('price-value'), {
        type: 'PROTOBUF',
        schema: price,
        references: [{ name: 'money.proto', subject: moneySubject, version: 1 }],
      })
      const value = { sku: 'x', amount: { currency: 'EUR', units: '5' }, at: { seconds: '1700000000', nanos: 0 } }
      const fresh = new SchemaRegistry({ url: registryUrl() })
      assert.deepEqual(await fresh.decode(await sr.encode(id, value)), value)
      fresh.close()
    })
  })

  it('bytes that are not the wire format of a known schema fail with a SerializationError', async () => {
    const { id } = await sr.register(uniqueName('bad-bytes-value'), { schema: avroV1 })
    const good = await sr.encode(id, avroValue)
    for (const bytes of [
      Buffer.alloc(0),
      Buffer.from([0, 0, 0]),
      Buffer.from('{"plain":"json"}'),
      Buffer.concat([Buffer.from([1]), good.subarray(1)]),
      good.subarray(0, good.length - 3),
      Buffer.concat([good, Buffer.from([7, 7])]),
    ]) {
      await assert.rejects(sr.decode(bytes, { topic: 't' }), SerializationError, `bytes ${bytes.toString('hex')}`)
    }
  })
})
