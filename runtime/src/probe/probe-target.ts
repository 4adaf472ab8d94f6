/** How the control connection is protected. */
export type ControlSecurity = 'plain' | 'explicit-tls' | 'implicit-tls';

/** The server, account and folder a probe is aimed at. */
export interface ProbeTarget {
  readonly security: ControlSecurity;
  readonly host: string;
  readonly port: number;
  /** "anonymous" when the URL names no user. */
  readonly username: string;
  /** From the URL, if it holds one (the probe reads it from elsewhere otherwise). */
  readonly password: string | undefined;
  /**
   * The folder to list (and to write into with --write), relative to the login
   * folder as RFC 1738 reads an FTP URL ("ftp://host/in/" is CWD in/, and
   * "ftp://host//srv/" the absolute /srv/); '' for the login folder itself.
   */
  readonly path: string;
  /** The URL without its password, for reports. */
  readonly display: string;
}

export class TargetError extends Error {}

const SCHEMES: Record<string, { security: ControlSecurity; port: number }> = {
  'ftp:': { security: 'plain', port: 21 },
  'ftpes:': { security: 'explicit-tls', port: 21 },
  'ftps:': { security: 'implicit-tls', port: 990 },
};

/**
 * ftp://user:pass@host:port/path (plain, or explicit TLS with `explicitTls`),
 * ftpes://… (explicit TLS), ftps://… (implicit TLS). User, password and path are
 * percent-decoded; IPv6 hosts come in brackets.
 */
export function parseProbeTarget(text: string, options: { readonly explicitTls: boolean }): ProbeTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TargetError(`${JSON.stringify(text)} is not a URL such as ftp://user@ftp.example.com/`);
  }
  const scheme = SCHEMES[url.protocol];
  if (!scheme) throw new TargetError(`${url.protocol}// is not ftp://, ftpes:// or ftps://`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new TargetError(`${JSON.stringify(text)} names no host`);
  if (url.search !== '' || url.hash !== '') throw new TargetError('the URL must not have a query or a fragment');
  const security = scheme.security === 'plain' && options.explicitTls ? 'explicit-tls' : scheme.security;
  if (scheme.security === 'implicit-tls' && options.explicitTls) {
    throw new TargetError('--tls asks for explicit TLS (AUTH TLS), but ftps:// is implicit TLS: use ftp:// with --tls, or ftps:// alone');
  }
  const port = url.port === '' ? scheme.port : Number(url.port);
  const username = url.username === '' ? 'anonymous' : decode(url.username, 'user name');
  const password = url.password === '' ? undefined : decode(url.password, 'password');
  const path = decode(url.pathname.replace(/^\//, ''), 'path');
  const userPart = url.username === '' ? '' : `${url.username}@`;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    security,
    host,
    port,
    username,
    password,
    path,
    display: `${url.protocol}//${userPart}${hostPart}:${port}${url.pathname || '/'}`,
  };
}

function decode(value: string, what: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new TargetError(`the ${what} in the URL is not valid percent-encoding`);
  }
}
