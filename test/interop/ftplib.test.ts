import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  casesByName,
  CLIENTS_DIR,
  ClientRunError,
  ClientSuite,
  MODES,
  run,
  s3Get,
  sha256,
  USER,
  type Mode,
  type RunResult,
} from '../support/interop-harness.ts';
import type { TestBridge } from '../support/bridge.ts';

/**
 * Python's ftplib (FTP; FTP_TLS with prot_p; the usual implicit-TLS subclass of
 * FTP_TLS) driving every command of the runtime issue. clients/ftplib_suite.py
 * runs all cases of a mode in one process and prints one JSON line per case; each
 * node:test case checks its line and the S3 objects the script says it left.
 * Active mode (PORT/EPRT) needs FTP_ACTIVE_MODE=on, so this file's bridge has it.
 */
const SCRIPT = join(CLIENTS_DIR, 'ftplib_suite.py');
const suite = new ClientSuite({
  probe: { name: 'ftplib', executable: 'python3', versionArgs: ['--version'] },
  bridgeEnv: { FTP_ACTIVE_MODE: 'on' },
});

const SCRIPT_MODE: Record<Mode, string> = { plain: 'plain', 'explicit TLS': 'explicit', 'implicit TLS': 'implicit' };

interface ScriptCase {
  readonly case: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly ms: number;
  readonly s3: ReadonlyArray<{ path: string; sha256?: string; size?: number; absent?: boolean }>;
  readonly transcript: string;
}

function listCases(mode: Mode): string[] {
  if (!suite.info.path) return [`(ftplib cases, ${mode})`];
  const listed = spawnSync('python3', [SCRIPT, '--list', '--mode', SCRIPT_MODE[mode]], { encoding: 'utf8', timeout: 20_000 });
  if (listed.status !== 0) throw new Error(`cannot list ftplib cases: ${listed.stderr}`);
  return JSON.parse(listed.stdout) as string[];
}

const runs = new Map<Mode, Promise<{ result: RunResult; cases: Map<string, ScriptCase> }>>();
function runScript(env: TestBridge, mode: Mode): Promise<{ result: RunResult; cases: Map<string, ScriptCase> }> {
  let pending = runs.get(mode);
  if (!pending) {
    pending = (async () => {
      const result = await run(
        'python3',
        [
          SCRIPT,
          '--mode', SCRIPT_MODE[mode],
          '--host', '127.0.0.1',
          '--port', String(mode === 'implicit TLS' ? env.implicitPort : env.port),
          '--root', `/ftplib-${SCRIPT_MODE[mode]}`,
          '--cafile', join(env.dir, 'cert.pem'),
          '--user', USER.username,
          '--password', USER.password,
        ],
        { timeoutMs: 240_000, env: { PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' } },
      );
      return { result, cases: casesByName<ScriptCase>(result.stdout) };
    })();
    runs.set(mode, pending);
  }
  return pending;
}

for (const mode of MODES) {
  for (const name of listCases(mode)) {
    suite.case(name, mode, async (context) => {
      const { result, cases } = await runScript(context.env, mode);
      const outcome = cases.get(name);
      if (!outcome) throw new ClientRunError(`ftplib script reported nothing for "${name}" (crashed or timed out?)`, result);
      if (!outcome.ok) {
        throw new Error(`ftplib case failed: ${outcome.detail}\n--- ftplib set_debuglevel(2) transcript (tail)\n${outcome.transcript}`);
      }
      for (const expectation of outcome.s3) {
        const object = await s3Get(context.env, expectation.path);
        if (expectation.absent) {
          assert.equal(object, undefined, `S3: ${expectation.path} should not exist after "${name}"`);
        } else {
          assert.ok(object, `S3: ${expectation.path} should exist after "${name}"`);
          assert.equal(object.length, expectation.size, `S3 size of ${expectation.path}`);
          assert.equal(sha256(object), expectation.sha256, `S3 content of ${expectation.path}`);
        }
      }
    });
  }
}
