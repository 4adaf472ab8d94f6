/**
 * The bridge's whole configuration, read from environment variables only here.
 * (Contract: the parser below the types is implemented against it.)
 */
export type TlsMode = 'off' | 'optional' | 'required';
export type ChecksumMode = 'when_supported' | 'when_required';

/** Where a reloadable text document (users, TLS credentials) comes from. */
export type DocumentSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'secret'; readonly secretId: string };

export type TlsCredentialsSource =
  | { readonly kind: 'files'; readonly certFile: string; readonly keyFile: string }
  /** Secrets Manager secret whose string is JSON {"certificate": PEM, "privateKey": PEM}. */
  | { readonly kind: 'secret'; readonly secretId: string };

export interface S3Settings {
  readonly bucket: string;
  /** Root prefix inside the bucket, normalised to '' or 'a/b' (no leading/trailing slash). */
  readonly prefix: string;
  readonly endpoint: string | undefined;
  readonly forcePathStyle: boolean;
  readonly region: string | undefined;
  readonly checksum: ChecksumMode;
  /** First multipart part size in bytes (>= 5 MiB). */
  readonly partSizeBytes: number;
}

export interface Config {
  readonly listenAddress: string;
  readonly controlPort: number;
  /** 0 = off. */
  readonly implicitTlsPort: number;
  readonly passivePorts: { readonly first: number; readonly last: number };
  /** Address advertised in PASV/EPSV; undefined = the control connection's local address. */
  readonly passiveAddress: string | undefined;
  readonly activeMode: boolean;
  readonly tlsMode: TlsMode;
  readonly tlsCredentials: TlsCredentialsSource | undefined;
  readonly users: DocumentSource;
  readonly s3: S3Settings;
  readonly dataConnectionTimeoutMs: number;
  readonly loginTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly loginFailureDelayMs: number;
  readonly lockoutFailures: number;
  readonly lockoutMs: number;
  readonly renameMaxObjects: number;
  readonly maxConnections: number;
  /** 0 = off. */
  readonly healthPort: number;
  readonly shutdownGraceMs: number;
  readonly reloadIntervalMs: number;
  readonly logLevel: string;
}
