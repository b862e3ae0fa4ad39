// The Admin's options: those of every client (an Admin has none of its own yet), checked before any
// network work.

import { CLIENT_FIELDS, type ClientOptions, clusterOptions, type ResolvedClientOptions } from '../client/options.ts'
import { group } from '../options/schema.ts'
import { resolveOptions } from '../options/validate.ts'

/** Options of an Admin: those of every client. */
export type AdminOptions = ClientOptions

export const ADMIN_OPTIONS = group('Admin options', CLIENT_FIELDS, { required: ['brokers'] })

/** Checks an Admin's options (one ConfigError) and completes them in the cluster's form. */
export function resolveAdminOptions(options: AdminOptions): ResolvedClientOptions {
  return clusterOptions(resolveOptions(ADMIN_OPTIONS, options, 'Admin'))
}
