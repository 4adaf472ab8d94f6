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
 * The cipher suites offered, as OpenSSL names (Node's `ciphers`): TLS 1.3's three suites
 * and, for TLS 1.2, Mozilla's "intermediate" profile without its DHE suites. Only AEAD
 * (AES-GCM, ChaCha20-Poly1305), so no CBC suite and nothing LUCKY13 applies to. ECDHE
 * only: every client that speaks TLS 1.2 with AEAD also speaks ECDHE, and DHE would add
 * a far costlier key exchange per handshake (a lever for handshake floods) and
 * Diffie-Hellman parameters to keep strong, for no client that needs it.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * Whether a PROT P upload must end with the client's TLS close_notify: `optional`
 * also commits one that ends in a clean TCP FIN without it (never one that ends in a
 * reset or an error), for clients that never send it (.NET SslStream).
 */
export const TLS_CLOSE_NOTIFY_MODES = ['required', 'optional'] as const;
export type TlsCloseNotify = (typeof TLS_CLOSE_NOTIFY_MODES)[number];
