import { partnerRule, partnerRuleSentence, type PartnerPorts, type PartnerRuleKind } from './partner-rules.ts';
import type { ProbeError } from './probe-error.ts';
import type { ProbeTarget } from './probe-target.ts';

/** The firewall rule a step depends on: what must be open for it to work. */
export interface RuleContext {
  readonly kind: PartnerRuleKind;
  readonly ports: PartnerPorts;
  /** The far end, as the partner page words it ("203.0.113.10", "the server's addresses"). */
  readonly bridge: string;
  readonly client?: string;
}

const NETWORK_KINDS = new Set(['timeout', 'refused', 'unreachable']);

/**
 * What to change after a failure. Network failures lead with the firewall rule the
 * step needs, in the partner page's words (partner-rules.ts); the others say what
 * the reply or the handshake means.
 */
export function adviceFor(error: ProbeError, context: { readonly rule: RuleContext | undefined; readonly target: ProbeTarget }): string[] {
  const { rule, target } = context;
  const hostPort = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  if (rule && NETWORK_KINDS.has(error.kind)) {
    const advice = [partnerRuleSentence(rule.kind, rule)];
    if (error.kind === 'timeout') {
      const [yours, theirs] = partnerRule(rule.kind).direction === 'outbound' ? ['outbound', 'inbound'] : ['inbound', 'outbound'];
      advice.push(`No answer at all usually means a firewall drops the packets: yours ${yours}, or one in front of the server ${theirs}.`);
    } else if (error.kind === 'refused') {
      advice.push('A refusal comes back at once: nothing listens on that port at that address (server, load balancer listener), or a firewall rejects.');
    }
    return advice;
  }
  switch (error.kind) {
    case 'dns':
      return [`Check the host name ${target.host}: this machine's resolver does not know it.`];
    case 'tls-not-spoken':
      return [
        `Use ftp://${hostPort}/ with --tls (explicit FTPS: AUTH TLS on the control port); implicit FTPS, if the server offers it, has a port of its own (990 by default).`,
      ];
    case 'tls-expected':
      return [`Use ftps://${hostPort}/ (implicit FTPS); plain FTP and explicit FTPS (AUTH TLS) use the control port (21 by default).`];
    case 'tls-not-offered':
      return [
        'The server does not offer explicit TLS on this port: probe without --tls (plain FTP), or ftps:// on its implicit FTPS port if it has one. ftp-s3-bridge answers 431 while it has no certificate.',
      ];
    case 'tls-required':
      return [
        `The server refuses to log in without TLS: probe ftp://${hostPort}/ with --tls (explicit FTPS), or ftps:// on the implicit FTPS port (990 by default).`,
      ];
    case 'tls-untrusted':
      return [
        'Clients that verify certificates (most do by default) will refuse this server. The server needs a certificate from a CA the clients trust, for the name they connect to, sent with its intermediate certificates.',
        'For a private CA, pass its certificate with --ca FILE; --insecure runs the rest of the probe anyway.',
      ];
    case 'tls-handshake':
      return ['The TLS handshake failed: the server and this client share no TLS version or cipher, or something between them is not TLS-aware.'];
    case 'login':
      return [
        'The server refused the login: wrong user name or password, a client address the account does not allow, or a lockout after too many failures. Servers give one answer for all of these on purpose; on ftp-s3-bridge the log event "login" (outcome "failed") has the reason.',
      ];
    case 'closed':
      return ["The server closed the connection: its log says why (ftp-s3-bridge: the event \"session-close\" has the reason)."];
    case 'data-mismatch':
      return ['What came back is not what was uploaded: check TYPE I (binary) support and anything that rewrites data in between.'];
    default:
      return [];
  }
}
