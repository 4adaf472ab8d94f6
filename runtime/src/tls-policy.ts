/**
 * The TLS policy words shared by the configuration, the users document, the protocol and
 * the CDK app. A leaf: it imports nothing.
 */

/** FTP_TLS_MODE: whether TLS is off, offered, or required for login and data. */
export const TLS_MODES = ['off', 'optional', 'required'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** Whether a PROT P data connection must resume its control connection's TLS session. */
export const TLS_SESSION_REUSE_MODES = ['required', 'optional'] as const;
export type TlsSessionReuse = (typeof TLS_SESSION_REUSE_MODES)[number];
