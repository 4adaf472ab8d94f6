import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';

/** What the probe learnt about the server's TLS: the session and its certificate. */
export interface TlsReport {
  readonly protocol: string;
  readonly cipher: string;
  readonly certificate: CertificateReport;
  /** The chain verifies against the system CAs (and --ca). */
  readonly chainVerified: boolean;
  /** OpenSSL's reason when it does not, e.g. DEPTH_ZERO_SELF_SIGNED_CERT or CERT_HAS_EXPIRED. */
  readonly chainError: string | undefined;
  /** The certificate names the host the probe was asked to reach. */
  readonly nameVerified: boolean;
  readonly nameError: string | undefined;
}

export interface CertificateReport {
  readonly subject: string;
  readonly issuer: string;
  /** "DNS:ftp.example.com", "IP Address:203.0.113.10". */
  readonly subjectAltNames: readonly string[];
  readonly validFrom: string;
  readonly validTo: string;
  /** Whole days until validTo, towards zero: 5.5 days left is 5, expired 3.2 days ago is -3. */
  readonly daysLeft: number;
  readonly selfSigned: boolean;
  readonly fingerprint256: string;
}

/** Below this many days left the probe warns: automatic renewals start at 30, so 14 means one has failed. */
export const EXPIRY_WARNING_DAYS = 14;

export function inspectTls(secure: TLSSocket, host: string, now = new Date()): TlsReport {
  const certificate = secure.getPeerCertificate();
  if (!certificate || Object.keys(certificate).length === 0) {
    return {
      protocol: secure.getProtocol() ?? 'unknown',
      cipher: secure.getCipher()?.name ?? 'unknown',
      certificate: emptyCertificate(),
      chainVerified: false,
      chainError: 'the server sent no certificate',
      nameVerified: false,
      nameError: 'the server sent no certificate',
    };
  }
  const nameProblem = checkServerIdentity(host, certificate);
  const chainError = secure.authorized ? undefined : String(secure.authorizationError ?? 'not trusted');
  return {
    protocol: secure.getProtocol() ?? 'unknown',
    cipher: secure.getCipher()?.name ?? 'unknown',
    certificate: describeCertificate(certificate, now),
    // Node folds a name mismatch into authorizationError; the chain is judged on its own here.
    chainVerified: chainError === undefined || chainError === 'ERR_TLS_CERT_ALTNAME_INVALID',
    chainError: chainError === 'ERR_TLS_CERT_ALTNAME_INVALID' ? undefined : chainError,
    nameVerified: nameProblem === undefined,
    nameError: nameProblem?.message,
  };
}

function describeCertificate(certificate: PeerCertificate, now: Date): CertificateReport {
  const validTo = new Date(certificate.valid_to);
  const subject = distinguishedName(certificate.subject);
  const issuer = distinguishedName(certificate.issuer);
  return {
    subject,
    issuer,
    subjectAltNames: (certificate.subjectaltname ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
    validFrom: new Date(certificate.valid_from).toISOString(),
    validTo: validTo.toISOString(),
    daysLeft: Math.trunc((validTo.getTime() - now.getTime()) / 86_400_000),
    selfSigned: subject === issuer,
    fingerprint256: certificate.fingerprint256,
  };
}

function distinguishedName(name: Record<string, string | string[] | undefined> | undefined): string {
  if (!name) return '';
  return Object.entries(name)
    .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(', ');
}

function emptyCertificate(): CertificateReport {
  return { subject: '', issuer: '', subjectAltNames: [], validFrom: '', validTo: '', daysLeft: 0, selfSigned: false, fingerprint256: '' };
}

/** One line for people: what the certificate is and for how long. */
export function certificateSummary(report: TlsReport): string {
  const { certificate } = report;
  const names = certificate.subjectAltNames.length > 0 ? certificate.subjectAltNames.join(', ') : 'no subject alternative names';
  const expiry = certificate.daysLeft < 0 ? `expired ${-certificate.daysLeft} days ago` : `${certificate.daysLeft} days left`;
  return `subject ${certificate.subject}; issuer ${certificate.issuer}; ${names}; valid until ${certificate.validTo.slice(0, 10)} (${expiry})`;
}

/** Why the certificate does not verify, in words; undefined when it does. */
export function verificationProblem(report: TlsReport, host: string): string | undefined {
  const problems: string[] = [];
  if (!report.chainVerified) problems.push(chainProblem(report));
  if (!report.nameVerified) {
    problems.push(`it does not name ${host} (${report.certificate.subjectAltNames.join(', ') || report.certificate.subject})`);
  }
  return problems.length === 0 ? undefined : problems.join('; ');
}

function chainProblem(report: TlsReport): string {
  switch (report.chainError) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `it is self-signed (${report.chainError}), so no system CA vouches for it`;
    case 'CERT_HAS_EXPIRED':
      return `it expired on ${report.certificate.validTo.slice(0, 10)} (${report.chainError})`;
    case 'CERT_NOT_YET_VALID':
      return `it is not valid before ${report.certificate.validFrom.slice(0, 10)} (${report.chainError}): check the clocks`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `its issuer is not a trusted CA, or the server does not send the intermediate certificates (${report.chainError})`;
    default:
      return `it does not verify against the system CAs (${report.chainError})`;
  }
}
