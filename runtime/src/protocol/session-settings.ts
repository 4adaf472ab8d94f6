import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/user.ts';
import type { TlsMode } from '../config.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import type { PassivePortPool } from './passive-ports.ts';

/** What every control session shares, handed down from the composition root. */
export interface SessionServices {
  readonly store: ObjectStore;
  readonly authenticator: Authenticator;
  readonly passivePorts: PassivePortPool;
  /**
   * The current TLS context (it changes when the certificate is rotated); undefined
   * when TLS is off or its certificate is not available yet.
   */
  readonly tlsContext: () => SecureContext | undefined;
  readonly settings: SessionSettings;
  readonly logger: Logger;
}

export interface SessionSettings {
  readonly tlsMode: TlsMode;
  readonly activeMode: boolean;
  /** IPv4 address advertised by PASV; undefined = the control connection's local address. */
  readonly passiveAddress: string | undefined;
  readonly dataConnectionTimeoutMs: number;
  readonly loginTimeoutMs: number;
  readonly idleTimeoutMs: number;
}
