// The message registry: every API's request and response codecs by API key. The APIs every client
// uses are imported here; the others load on first use (API_MODULES), so importing kafkax stays cheap.

import { ProtocolError } from '../errors.ts'
import { ApiVersionsRequest } from './generated/api-versions-request.ts'
import { ApiVersionsResponse } from './generated/api-versions-response.ts'
import { API_MODULES, type ApiModule } from './generated/apis.ts'
import { FetchRequest } from './generated/fetch-request.ts'
import { FetchResponse } from './generated/fetch-response.ts'
import { FindCoordinatorRequest } from './generated/find-coordinator-request.ts'
import { FindCoordinatorResponse } from './generated/find-coordinator-response.ts'
import { HeartbeatRequest } from './generated/heartbeat-request.ts'
import { HeartbeatResponse } from './generated/heartbeat-response.ts'
import { InitProducerIdRequest } from './generated/init-producer-id-request.ts'
import { InitProducerIdResponse } from './generated/init-producer-id-response.ts'
import { JoinGroupRequest } from './generated/join-group-request.ts'
import { JoinGroupResponse } from './generated/join-group-response.ts'
import { LeaveGroupRequest } from './generated/leave-group-request.ts'
import { LeaveGroupResponse } from './generated/leave-group-response.ts'
import { ListOffsetsRequest } from './generated/list-offsets-request.ts'
import { ListOffsetsResponse } from './generated/list-offsets-response.ts'
import { MetadataRequest } from './generated/metadata-request.ts'
import { MetadataResponse } from './generated/metadata-response.ts'
import { OffsetCommitRequest } from './generated/offset-commit-request.ts'
import { OffsetCommitResponse } from './generated/offset-commit-response.ts'
import { OffsetFetchRequest } from './generated/offset-fetch-request.ts'
import { OffsetFetchResponse } from './generated/offset-fetch-response.ts'
import { ProduceRequest } from './generated/produce-request.ts'
import { ProduceResponse } from './generated/produce-response.ts'
import { SaslAuthenticateRequest } from './generated/sasl-authenticate-request.ts'
import { SaslAuthenticateResponse } from './generated/sasl-authenticate-response.ts'
import { SaslHandshakeRequest } from './generated/sasl-handshake-request.ts'
import { SaslHandshakeResponse } from './generated/sasl-handshake-response.ts'
import { SyncGroupRequest } from './generated/sync-group-request.ts'
import { SyncGroupResponse } from './generated/sync-group-response.ts'
import type { MessageCodec } from './runtime.ts'

export * from './generated/apis.ts'
export type { MessageCodec, TaggedField } from './runtime.ts'

/** One API: its key, name and the codecs of its request and response bodies. */
export interface Api<Req = any, Res = any> {
  apiKey: number
  name: string
  request: MessageCodec<Req>
  response: MessageCodec<Res>
}

/** An API from its generated request and response codecs. */
export function api<Req, Res>(request: MessageCodec<Req>, response: MessageCodec<Res>): Api<Req, Res> {
  return { apiKey: request.apiKey, name: request.name.replace(/Request$/, ''), request, response }
}

export const Produce = api(ProduceRequest, ProduceResponse)
export const Fetch = api(FetchRequest, FetchResponse)
export const ListOffsets = api(ListOffsetsRequest, ListOffsetsResponse)
export const Metadata = api(MetadataRequest, MetadataResponse)
export const OffsetCommit = api(OffsetCommitRequest, OffsetCommitResponse)
export const OffsetFetch = api(OffsetFetchRequest, OffsetFetchResponse)
export const FindCoordinator = api(FindCoordinatorRequest, FindCoordinatorResponse)
export const JoinGroup = api(JoinGroupRequest, JoinGroupResponse)
export const Heartbeat = api(HeartbeatRequest, HeartbeatResponse)
export const LeaveGroup = api(LeaveGroupRequest, LeaveGroupResponse)
export const SyncGroup = api(SyncGroupRequest, SyncGroupResponse)
export const SaslHandshake = api(SaslHandshakeRequest, SaslHandshakeResponse)
export const ApiVersions = api(ApiVersionsRequest, ApiVersionsResponse)
export const InitProducerId = api(InitProducerIdRequest, InitProducerIdResponse)
export const SaslAuthenticate = api(SaslAuthenticateRequest, SaslAuthenticateResponse)

const loaded = new Map<number, Api>(
  [
    Produce,
    Fetch,
    ListOffsets,
    Metadata,
    OffsetCommit,
    OffsetFetch,
    FindCoordinator,
    JoinGroup,
    Heartbeat,
    LeaveGroup,
    SyncGroup,
    SaslHandshake,
    ApiVersions,
    InitProducerId,
    SaslAuthenticate,
  ].map((a) => [a.apiKey, a]),
)

/** The API keys this build has codecs for. */
export const API_KEYS: readonly number[] = API_MODULES.map((m) => m.apiKey)

/** An API whose codecs are already loaded (the ones above, or any loaded before), else undefined. */
export function loadedApi(apiKey: number): Api | undefined {
  return loaded.get(apiKey)
}

/** The codecs of an API (a generated handle such as `CreateTopicsModule`, or a key), loaded on first use. */
export async function loadApi<Req, Res>(module: ApiModule<Req, Res>): Promise<Api<Req, Res>>
export async function loadApi(apiKey: number): Promise<Api>
export async function loadApi(which: number | ApiModule): Promise<Api> {
  const apiKey = typeof which === 'number' ? which : which.apiKey
  const known = loaded.get(apiKey)
  if (known) return known
  const entry = typeof which === 'number' ? API_MODULES.find((m) => m.apiKey === apiKey) : which
  if (!entry) throw new ProtocolError(`unknown API key ${apiKey}`)
  const { request, response } = await entry.load()
  const a = api(request, response)
  loaded.set(apiKey, a)
  return a
}
