/** The help texts of `ftp-s3-bridge users`, one per subcommand; docs/partners.md shows the same. */

const STORE_OPTIONS = `Where the users are (one of them; without any, the bridge's own setting
FTP_USERS_FILE, FTP_USERS_SECRET_ID or FTP_USERS_TABLE is used):
  --file PATH            a users JSON file (created by the first add)
  --secret-id ID         a Secrets Manager secret (must exist; at most 64 KiB)
  --table NAME           a DynamoDB users table (DYNAMODB_ENDPOINT overrides the endpoint)
  --json                 print JSON for scripts
  -h, --help             show the help of the subcommand`;

const USER_OPTIONS = `  --permissions LIST     comma-separated, of list,read,write,delete,mkdir,rename (default all six)
  --allow-from CIDR      addresses it may log in from, e.g. 203.0.113.0/24 (repeat for more; default any)
  --max-sessions N       concurrent sessions across all shards
  --upload-kibps N       upload bandwidth per session, KiB/s
  --download-kibps N     download bandwidth per session, KiB/s
  --quota-bytes N        bytes its home may hold
  --quota-files N        files its home may hold
  --expires-at TIME      ISO-8601 with a zone (2027-06-30T23:59:59Z): logins refused and sessions ended from then
  --tls-session-reuse required|optional
  --tls-close-notify required|optional`;

const PASSWORD_OPTIONS = `The password (never on the command line):
  --password-stdin       read it from standard input (one line)
  --generate-password    make a random one and print it once
  (neither)              type it at the prompt, without echo`;

export const USERS_USAGE = {
  main: `Usage: ftp-s3-bridge users SUBCOMMAND [options]

Partners of the bridge, without editing JSON:
  list                    every user: home, permissions, state, addresses, limits
  show NAME               one user's fields (not its password hash)
  add NAME --home PREFIX  a new user (options: ftp-s3-bridge users add --help)
  passwd NAME             a new password (open sessions of the user end)
  set NAME FIELD=VALUE…   change fields (ftp-s3-bridge users set --help)
  disable NAME            refuse its logins and end its sessions, keeping the entry
  enable NAME             undo disable
  remove NAME             delete the user (its files stay)
  check                   validate the whole document, every problem at once
  import                  copy users from a file or secret into a table

${STORE_OPTIONS}

Exit status: 0 done, 1 the store refused or failed (or check found problems),
2 bad input (unknown option or user, a value the users document does not accept).
`,
  list: `Usage: ftp-s3-bridge users list [store options]

Lists every user: username, home, permissions, state (enabled, disabled, expired,
expires TIME), allowFrom and limits.

${STORE_OPTIONS}
`,
  show: `Usage: ftp-s3-bridge users show NAME [store options]

Shows one user's fields; the password hash is shown only as "(set)".

${STORE_OPTIONS}
`,
  add: `Usage: ftp-s3-bridge users add NAME --home PREFIX [options] [store options]

Adds a user whose files are under PREFIX in the bucket ('/' for all of it).

${USER_OPTIONS}

${PASSWORD_OPTIONS}

${STORE_OPTIONS}
`,
  passwd: `Usage: ftp-s3-bridge users passwd NAME [password option] [store options]

Sets a new password. The user's open sessions end (their password was revoked).

${PASSWORD_OPTIONS}

${STORE_OPTIONS}
`,
  set: `Usage: ftp-s3-bridge users set NAME FIELD=VALUE… [store options]

Changes fields of a user, named as in the users document: home, permissions,
allowFrom, tlsSessionReuse, tlsCloseNotify, disabled, expiresAt, maxSessions,
uploadKiBps, downloadKiBps, quotaBytes, quotaFiles. Lists are comma-separated
(permissions=list,read; allowFrom=203.0.113.0/24,198.51.100.7/32). An empty value
removes the field, so its default applies (maxSessions= : no limit of its own).
Passwords: use passwd.

${STORE_OPTIONS}
`,
  disable: `Usage: ftp-s3-bridge users disable NAME [store options]

Refuses the user's logins and ends its open sessions; the entry stays (enable undoes it).

${STORE_OPTIONS}
`,
  enable: `Usage: ftp-s3-bridge users enable NAME [store options]

Lets a disabled user log in again.

${STORE_OPTIONS}
`,
  remove: `Usage: ftp-s3-bridge users remove NAME [store options]

Deletes the user; its open sessions end. Its files in the bucket stay.

${STORE_OPTIONS}
`,
  check: `Usage: ftp-s3-bridge users check [store options]

Validates the users document (or table) as the bridge would, and lists every problem.
Exit status 0 only for a valid document; 1 when it has problems.

${STORE_OPTIONS}
`,
  import: `Usage: ftp-s3-bridge users import (--from-file PATH | --from-secret-id ID) --table NAME [--json]

Copies every user of a users document into a DynamoDB users table. The document is
checked first (nothing is copied from an invalid one); users already in the table
are left as they are and listed as skipped. Run it again safely.
`,
} as const;

export type UsersSubcommand = Exclude<keyof typeof USERS_USAGE, 'main'>;
