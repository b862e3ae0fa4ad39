// The broker harness's pure parts, and the promise that docker-compose.yml offers users the same
// single node (listeners, ports, mechanisms, test users) as the harness our tests run against.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { parse } from 'yaml'
import { DEFAULT_PORT_BASE, release, singleNodeProperties, singlePorts, USERS } from '../../scripts/kafka/harness.ts'

function properties(text: string): Map<string, string> {
  const map = new Map<string, string>()
  for (const line of text.split('\n')) {
    const match = /^([^#=\s][^=]*)=(.*)$/.exec(line)
    if (match) map.set(match[1], match[2])
  }
  return map
}

describe('harness release selection', () => {
  it('maps KAFKA_VERSION lines to pinned releases', () => {
    assert.equal(release('4.3.x').version, '4.3.1')
    assert.equal(release('3.9.x').version, '3.9.2')
    assert.equal(release('3.9.2').line, '3.9')
    assert.match(release('4.3').libs, /libs-4\.3\.1$/)
  })

  it('rejects a line it cannot run', () => {
    assert.throws(() => release('2.8.x'), /KAFKA_VERSION=2\.8\.x is not supported/)
  })
})

describe('docker-compose.yml matches the harness', () => {
  // the default ports, whatever KAFKA_PORT_BASE this run uses
  const ports = singlePorts(DEFAULT_PORT_BASE)
  const harness = properties(singleNodeProperties('/tmp/kafkax-node', ports))
  const docker = properties(readFileSync(new URL('../../docker/server.properties', import.meta.url), 'utf8'))
  const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'))

  it('advertises the same client listeners on the same ports', () => {
    const clientListeners = (value: string) =>
      value
        .split(',')
        .filter((l) => !/^(CONTROLLER|PROXIED):/.test(l))
        .sort()
    assert.deepEqual(
      clientListeners(docker.get('advertised.listeners')!),
      clientListeners(harness.get('advertised.listeners')!),
    )
    const published = compose.services.kafka.ports.map((p: string) => Number(p.split(':').at(-1)))
    assert.deepEqual(published.sort(), [ports.plaintext, ports.saslPlaintext, ports.ssl, ports.saslSsl].sort())
  })

  it('enables the same SASL mechanisms with the same users', () => {
    assert.equal(docker.get('sasl.enabled.mechanisms'), harness.get('sasl.enabled.mechanisms'))
    for (const key of [...harness.keys()].filter((k) => k.endsWith('.sasl.jaas.config'))) {
      assert.equal(docker.get(key), harness.get(key), key)
    }
    const script = compose.services.users.command.join('\n')
    for (const [user, password] of Object.entries(USERS)) {
      assert.equal(password, `${user}-secret`)
      assert.match(script, new RegExp(`for u in .*\\b${user}\\b`))
    }
  })

  it('offers OAUTHBEARER with the unsecured validator on both SASL listeners', () => {
    assert.deepEqual(harness.get('sasl.enabled.mechanisms')?.split(','), [
      'PLAIN',
      'SCRAM-SHA-256',
      'SCRAM-SHA-512',
      'OAUTHBEARER',
    ])
    for (const listener of ['sasl_plaintext', 'sasl_ssl']) {
      // tokenless broker login; no server callback handler, so Kafka's unsecured JWS validator applies
      assert.equal(
        harness.get(`listener.name.${listener}.oauthbearer.sasl.jaas.config`),
        'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
      )
      assert.equal(harness.get(`listener.name.${listener}.oauthbearer.sasl.server.callback.handler.class`), undefined)
    }
  })

  it('uses the same TLS store password and SASL session lifetime', () => {
    assert.equal(docker.get('ssl.keystore.password'), harness.get('ssl.keystore.password'))
    const reauth = 'listener.name.sasl_plaintext.connections.max.reauth.ms'
    assert.ok(Number(harness.get(reauth)) > 0)
    assert.equal(docker.get(reauth), harness.get(reauth))
  })
})
