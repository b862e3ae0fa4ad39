// SASL as the connection sees it: a mechanism runs its exchange over SaslAuthenticate round trips
// that the connection performs. The mechanisms hold credentials in closures, never in properties, so
// that logging, inspecting or serialising a mechanism cannot reveal them.

/** A SASL mechanism: its name for SaslHandshake and the exchange of SaslAuthenticate messages. */
export interface SaslMechanism {
  /** As sent in SaslHandshake: 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER', ... */
  readonly name: string
  /** Runs the exchange. `send` does one SaslAuthenticate round trip: it sends the client bytes and
   *  resolves with the server's bytes (it rejects with AuthenticationError when the broker answers
   *  an error code). Throws AuthenticationError when the server's answer is wrong (e.g. a bad SCRAM
   *  server signature). `broker` is the broker being authenticated to (some mechanisms sign for it). */
  authenticate(send: (clientBytes: Buffer) => Promise<Buffer>, broker?: { host: string; port: number }): Promise<void>
}

/** What an OAUTHBEARER token provider returns. */
export interface OAuthBearerToken {
  /** The bearer token, e.g. a JWT. */
  value: string
  /** SASL extensions (KIP-342) sent beside the token. */
  extensions?: Record<string, string>
}

/** `mechanism` is case-insensitive (options may come from YAML or the environment). */
export type SaslOptions =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | {
      mechanism: 'oauthbearer'
      /** Called for a token at every authentication and re-authentication. */
      oauthBearerProvider: () => Promise<OAuthBearerToken>
    }
  | { mechanism: 'custom'; custom: SaslMechanism }
