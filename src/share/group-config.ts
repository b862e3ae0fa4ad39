// What a share consumer reads of its group's configs (KIP-932 group configs, DescribeConfigs on the
// GROUP resource): the delivery count limit, after which the broker archives a record instead of
// delivering it again (so the consumer's last attempt is the one at the limit), and whether the
// group takes lock renewals (KIP-1222). A broker that does not answer (no ACL, too old) leaves
// Kafka's defaults.

import type { Cluster } from '../client/cluster.ts'
import { DescribeConfigsModule, loadApi } from '../protocol/messages/index.ts'

/** The GROUP config resource type (ConfigResource.Type.GROUP). */
const GROUP_RESOURCE = 32

export interface ShareGroupSettings {
  /** share.delivery.count.limit (default 5). */
  deliveryCountLimit: number
  /** share.renew.acknowledge.enable (default true). */
  renewAllowed: boolean
}

export const DEFAULT_SETTINGS: ShareGroupSettings = { deliveryCountLimit: 5, renewAllowed: true }

export async function shareGroupSettings(cluster: Cluster, groupId: string): Promise<ShareGroupSettings> {
  try {
    const api = await loadApi(DescribeConfigsModule)
    const response = await cluster.request('any', api, {
      resources: [
        {
          resourceType: GROUP_RESOURCE,
          resourceName: groupId,
          configurationKeys: ['share.delivery.count.limit', 'share.renew.acknowledge.enable'],
        },
      ],
    })
    const result = response.results[0]
    if (result?.errorCode !== 0) return DEFAULT_SETTINGS
    const value = (name: string) => result.configs.find((c) => c.name === name)?.value
    const limit = Number(value('share.delivery.count.limit'))
    return {
      deliveryCountLimit: Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_SETTINGS.deliveryCountLimit,
      renewAllowed: value('share.renew.acknowledge.enable') !== 'false',
    }
  } catch {
    return DEFAULT_SETTINGS
  }
}
