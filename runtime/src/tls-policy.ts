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

/**
 * Whether a PROT P upload must end with the client's TLS close_notify: `optional`
 * also commits one that ends in a clean TCP FIN without it (never one that ends in a
 * reset or an error), for clients that never send it (.NET SslStream).
 */
export const TLS_CLOSE_NOTIFY_MODES = ['required', 'optional'] as const;
export type TlsCloseNotify = (typeof TLS_CLOSE_NOTIFY_MODES)[number];
