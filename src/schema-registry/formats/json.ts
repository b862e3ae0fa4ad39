// JSON Schema with the ajv package: values are validated before they are written (as UTF-8 JSON
// text), and optionally again when read. The schema's `$schema` picks the draft: 2020-12, 2019-09,
// or draft-07 (ajv's default, and what the registry assumes for schemas that name none).

import type { Ajv as AjvCore, Options as AjvOptions, ErrorObject, ValidateFunction } from 'ajv'
import { ConfigError } from '../../protocol/errors.ts'
import { SerializationError } from '../errors.ts'
import { formatPackage, type ParsedSchema, type ResolvedReference } from '../schema.ts'
import { HEADER_SIZE, writeHeader } from '../wire.ts'

export interface JsonSchemaOptions {
  /** Validate values read from Kafka too (default false: they were validated when written). */
  validateOnRead?: boolean
  /** ajv options (default: `strict: false`, so unknown keywords and formats are no errors). */
  ajv?: AjvOptions
  /** Called with each new ajv instance, e.g. to add formats: `(ajv) => addFormats(ajv)`. */
  configure?: (ajv: AjvCore) => void
}

type AjvClass = new (options: AjvOptions) => AjvCore

function ajvFor(draft: string | undefined): AjvClass {
  const module =
    draft?.includes('2020-12') === true
      ? 'ajv/dist/2020'
      : draft?.includes('2019-09') === true
        ? 'ajv/dist/2019'
        : 'ajv'
  const loaded = formatPackage<{ default: AjvClass }>(module, 'JSON')
  return loaded.default
}

function parseJson(text: string, what: string): Record<string, unknown> | boolean {
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new ConfigError(`${what} is not JSON`, { cause })
  }
}

function failures(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`)
}

class JsonSchema implements ParsedSchema {
  readonly type = 'JSON'

  constructor(
    private readonly validate: ValidateFunction,
    readonly recordName: string | undefined,
    private readonly validateOnRead: boolean,
  ) {}

  encode(schemaId: number, value: unknown): Buffer {
    if (!this.validate(value)) {
      const paths = failures(this.validate.errors)
      throw new SerializationError(`the value does not match the JSON schema: ${paths.join('; ')}`, { schemaId, paths })
    }
    const text = JSON.stringify(value)
    const out = Buffer.allocUnsafe(HEADER_SIZE + Buffer.byteLength(text))
    writeHeader(out, schemaId)
    out.write(text, HEADER_SIZE)
    return out
  }

  decode(bytes: Buffer, offset: number, reader?: ParsedSchema): unknown {
    if (reader !== undefined) throw new ConfigError('reader schemas apply to Avro data only')
    let value: unknown
    try {
      value = JSON.parse(bytes.toString('utf8', offset))
    } catch (cause) {
      throw new SerializationError(`the JSON payload does not parse: ${(cause as Error).message}`, {}, { cause })
    }
    if (this.validateOnRead && !this.validate(value)) {
      const paths = failures(this.validate.errors)
      throw new SerializationError(`the value read does not match its JSON schema: ${paths.join('; ')}`, { paths })
    }
    return value
  }
}

/** Parses a JSON Schema; referenced schemas are added to its ajv instance under their reference names. */
export function parseJsonSchema(
  text: string,
  references: ResolvedReference[],
  options: JsonSchemaOptions = {},
): ParsedSchema {
  const schema = parseJson(text, 'the JSON schema')
  const draft = typeof schema === 'object' && typeof schema.$schema === 'string' ? schema.$schema : undefined
  const Ajv = ajvFor(draft)
  try {
    const ajv = new Ajv({ strict: false, ...options.ajv })
    options.configure?.(ajv)
    const added = new Set<string>()
    const add = (refs: ResolvedReference[]) => {
      for (const ref of refs) {
        if (added.has(ref.name)) continue
        added.add(ref.name)
        add(ref.references)
        ajv.addSchema(parseJson(ref.schema, `the referenced schema ${ref.name}`) as object, ref.name)
      }
    }
    add(references)
    const title = typeof schema === 'object' && typeof schema.title === 'string' ? schema.title : undefined
    return new JsonSchema(ajv.compile(schema), title, options.validateOnRead ?? false)
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause
    throw new ConfigError(`not a usable JSON schema: ${(cause as Error).message}`, { cause })
  }
}
