/**
 * Why a probe step failed, as a kind a script can branch on and a sentence a person
 * can act on. Network kinds keep a firewall that drops (timeout) apart from one that
 * rejects or a port where nothing listens (refused).
 */
export type FailureKind =
  /** No answer in time: packets dropped, or the peer accepted and then said nothing. */
  | 'timeout'
  /** RST: nothing listens, or a firewall rejects. */
  | 'refused'
  | 'unreachable'
  | 'dns'
  /** The peer closed or reset an established connection. */
  | 'closed'
  /** The TLS handshake failed for another reason than the ones below. */
  | 'tls-handshake'
  /** TLS was expected on the port, but the server spoke plain FTP. */
  | 'tls-not-spoken'
  /** The probe spoke plain FTP, but the port expects TLS from the first byte. */
  | 'tls-expected'
  /** AUTH TLS was refused. */
  | 'tls-not-offered'
  /** The server refuses to log in before TLS. */
  | 'tls-required'
  /** The certificate does not verify against the trusted CAs or the host name. */
  | 'tls-untrusted'
  | 'login'
  /** The server answered a command with an unexpected reply. */
  | 'reply'
  /** A reply or listing the probe could not understand. */
  | 'protocol'
  /** What came back differs from what was uploaded. */
  | 'data-mismatch';

export class ProbeError extends Error {
  readonly kind: FailureKind;
  /** What this particular failure means, ahead of the advice for its kind. */
  readonly advice: readonly string[];

  constructor(kind: FailureKind, message: string, options?: { cause?: unknown; advice?: readonly string[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProbeError';
    this.kind = kind;
    this.advice = options?.advice ?? [];
  }
}

/** "5 s", "0.5 s": timeouts as people read them. */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** The probe's wording for a socket error (connect or established connection). */
export function networkError(error: unknown, what: string): ProbeError {
  if (error instanceof ProbeError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return new ProbeError('refused', `${what}: connection refused: nothing listens, or a firewall rejects`, { cause: error });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return new ProbeError('unreachable', `${what}: no route to the address (${code})`, { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ProbeError('dns', `${what}: the host name does not resolve (${code})`, { cause: error });
    case 'ECONNRESET':
    case 'EPIPE':
      return new ProbeError('closed', `${what}: the connection was reset (by the server or a firewall between)`, { cause: error });
    default:
      return new ProbeError('closed', `${what}: ${(error as Error | undefined)?.message ?? String(error)}`, { cause: error });
  }
}
