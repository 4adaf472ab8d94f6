import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importSpecifiers, sourceFiles } from '../support/import-graph.ts';

/**
 * Which way imports go in the runtime, as data: each row names some files of
 * runtime/src and everything they may import, with the reason. docs/design.md draws
 * the same picture; change both together. A place is a folder (`protocol/`, everything
 * below it), one file (`composition-root.ts`), or `*` (the files directly in runtime/src). A file
 * takes the first row that names it.
 */
type Place = string;

interface Layer {
  readonly files: readonly Place[];
  readonly mayImport: readonly Place[];
  /** Places inside mayImport that these files still may not import. */
  readonly except?: readonly Place[];
  readonly why: string;
}

interface PackageRule {
  /** A package name, or a scope with its slash (`@aws-sdk/`). */
  readonly packages: string;
  readonly onlyFrom: readonly Place[];
  readonly why: string;
}

/**
 * What protocol code may know of storage: the store's interface and its one error type,
 * and the key rules every backend applies. Nothing here may import an SDK.
 */
const STORAGE_CONTRACT: readonly Place[] = ['storage/object-store.ts', 'storage/pending-uploads.ts', 'storage/storage-error.ts', 'storage/store-path.ts'];

/** The S3 implementation: the only storage code that knows the AWS SDK. */
const S3_IMPLEMENTATION: readonly Place[] = ['storage/s3/'];

/**
 * What protocol code may know of the shared state: the partner limits it applies
 * (session leases, quota counts), never the DynamoDB implementation.
 */
const PARTNER_STATE: readonly Place[] = ['state/shared-state.ts', 'state/session-leases.ts', 'state/quota-ledger.ts'];

/** Root modules with no imports of their own that any room may use. */
const SHARED_LEAVES: readonly Place[] = ['deadline.ts', 'tls-policy.ts', 'concurrency-limit.ts'];

/** Everything a composition module may wire together: all but the local stack. */
const PRODUCTION: readonly Place[] = ['*', 'cli/', 'protocol/', 'auth/', 'storage/', 'sources/', 'probe/', 'settings/', 'metrics/', 'events/', 'state/', 'users-cli/'];

const LAYERS: readonly Layer[] = [
  {
    files: ['protocol/commands/'],
    mayImport: ['protocol/', 'auth/', ...STORAGE_CONTRACT, ...SHARED_LEAVES],
    except: ['protocol/commands/'],
    why: 'handler modules share code only through a protocol module they both import; the command table alone knows them all',
  },
  {
    files: ['protocol/'],
    mayImport: ['protocol/', 'auth/', ...STORAGE_CONTRACT, ...PARTNER_STATE, ...SHARED_LEAVES],
    why: 'FTP knows the store only through its contract, so another backend needs no protocol change',
  },
  {
    files: ['auth/'],
    mayImport: ['auth/', 'sources/', ...STORAGE_CONTRACT, ...SHARED_LEAVES],
    why: 'who may do what never depends on the FTP session; users come from a document source',
  },
  {
    files: ['storage/'],
    mayImport: ['storage/', ...SHARED_LEAVES],
    why: 'storage knows neither FTP nor users',
  },
  {
    files: ['state/'],
    mayImport: ['state/', 'container-environment.ts', ...SHARED_LEAVES],
    why: 'what every task shares (leases, counts) knows neither FTP, nor users, nor S3: only records in a table (laid out as the CDK app creates it) or in memory',
  },
  {
    files: ['sources/'],
    mayImport: ['sources/', ...SHARED_LEAVES],
    why: 'documents and secrets read from files or AWS, handed to whoever reloads them',
  },
  {
    files: ['probe/'],
    mayImport: ['probe/', ...SHARED_LEAVES],
    why: 'the partner-side probe is an FTP client; it shares no code with the server it tests',
  },
  {
    files: ['users-cli/'],
    mayImport: ['users-cli/', 'auth/', 'sources/', ...SHARED_LEAVES],
    why: 'the partner command line checks entries with the users schema and writes them through the users stores; it never starts a server',
  },
  {
    files: ['metrics/'],
    mayImport: ['metrics/', ...SHARED_LEAVES],
    why: 'metrics are counted from log events and written as log lines; they know no room they measure',
  },
  {
    files: ['events/'],
    mayImport: ['events/', 'protocol/upload-outcomes.ts', ...SHARED_LEAVES],
    why: 'upload events implement the one interface the protocol reports uploads through',
  },
  {
    files: ['settings/'],
    mayImport: ['settings/'],
    why: 'value validators the CDK app imports too: they must not pull the runtime in',
  },
  {
    files: ['cli/'],
    mayImport: ['cli/', '*', 'auth/', 'probe/', 'users-cli/', 'metrics/log-event-tap.ts'],
    why: 'the command line starts the server through the composition root and runs the subcommands; it wires nothing itself but the logger, tapped for the metrics',
  },
  {
    files: ['local/'],
    mayImport: [...PRODUCTION, 'local/'],
    why: 'the local stack runs the production pieces against an emulator; it is never in the image',
  },
  {
    files: ['*'],
    mayImport: PRODUCTION,
    why: 'composition-root.ts composes everything; config and the shared root modules stay out of the local stack',
  },
];

const PACKAGE_RULES: readonly PackageRule[] = [
  {
    packages: '@aws-sdk/',
    onlyFrom: [...S3_IMPLEMENTATION, 'sources/', 'events/', 'state/dynamo-state.ts', 'composition-root.ts'],
    why: 'AWS is reached only by the S3 store, the secret and table sources, the upload events, the shared-state table, and the composition root that builds their clients',
  },
];

/**
 * The runtime modules the CDK app (lib/, bin/) may import: the typed container contract,
 * the TLS words, the value validators, the partner rules and the upload events' names. They import only each other
 * and Node, so a synth never loads the server, its logger or an AWS SDK client.
 */
const SHARED_WITH_CDK: readonly Place[] = ['container-environment.ts', 'tls-policy.ts', 'settings/', 'probe/partner-rules.ts', 'events/upload-event-names.ts'];

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RUNTIME = join(ROOT, 'runtime/src');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

function isIn(path: string, place: Place): boolean {
  if (place === '*') return !path.includes('/');
  return place.endsWith('/') ? path.startsWith(place) : path === place;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier);
}

/** A runtime module: its path under runtime/src and what it imports, as written. */
interface RuntimeModule {
  readonly path: string;
  readonly specifiers: readonly string[];
}

function runtimeModules(): RuntimeModule[] {
  return sourceFiles(RUNTIME).map((file) => ({ path: relative(RUNTIME, file), specifiers: importSpecifiers(file) }));
}

/** Every import of these modules that breaks a row above, as "file → import: why". */
function layeringProblems(modules: readonly RuntimeModule[]): string[] {
  const problems: string[] = [];
  for (const { path, specifiers } of modules) {
    const layer = LAYERS.find((row) => row.files.some((place) => isIn(path, place)));
    if (!layer) {
      problems.push(`${path}: no row of LAYERS names it`);
      continue;
    }
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) {
        const target = relative(RUNTIME, resolve(RUNTIME, dirname(path), specifier));
        if (!layer.mayImport.some((place) => isIn(target, place)) || layer.except?.some((place) => isIn(target, place))) {
          const except = layer.except ? ` but ${layer.except.join(', ')}` : '';
          problems.push(`${path} → ${target}: ${layer.files.join(', ')} may import only ${layer.mayImport.join(', ')}${except} (${layer.why})`);
        }
        continue;
      }
      if (isBuiltin(specifier)) continue;
      const name = packageName(specifier);
      for (const rule of PACKAGE_RULES) {
        const covered = rule.packages.endsWith('/') ? name.startsWith(rule.packages) : name === rule.packages;
        if (covered && !rule.onlyFrom.some((place) => isIn(path, place))) {
          problems.push(`${path} → ${name}: only ${rule.onlyFrom.join(', ')} may import it (${rule.why})`);
        }
      }
      if (!isIn(path, 'local/') && !(name in manifest.dependencies)) {
        problems.push(`${path} → ${name}: not a production dependency, and the image installs only those (npm ci --omit=dev)`);
      }
    }
  }
  return problems;
}

test('runtime imports go only the ways the layer table allows', () => {
  assert.deepEqual(layeringProblems(runtimeModules()), []);
});

test('a forbidden import is reported: the table is checked, not only read', () => {
  const problems = layeringProblems([
    { path: 'protocol/commands/file-commands.ts', specifiers: ['../../storage/s3/s3-object-store.ts', '@aws-sdk/client-s3', './transfer-commands.ts'] },
    { path: 'storage/memory/memory-object-store.ts', specifiers: ['../../protocol/reply.ts'] },
    { path: 'auth/user.ts', specifiers: ['vitest'] },
    { path: 'newroom/user.ts', specifiers: [] },
  ]);
  const offenders = problems.map((problem) => problem.split(':')[0]);
  assert.deepEqual(offenders, [
    'protocol/commands/file-commands.ts → storage/s3/s3-object-store.ts',
    'protocol/commands/file-commands.ts → @aws-sdk/client-s3',
    'protocol/commands/file-commands.ts → protocol/commands/transfer-commands.ts',
    'storage/memory/memory-object-store.ts → protocol/reply.ts',
    'auth/user.ts → vitest',
    'newroom/user.ts',
  ]);
});

test('the CDK app imports from the runtime only the modules the two sides share, and those nothing else', () => {
  const problems: string[] = [];
  const cdkFiles = ['lib', 'bin'].flatMap((folder) => sourceFiles(join(ROOT, folder)));
  const shared = sourceFiles(RUNTIME).filter((file) => SHARED_WITH_CDK.some((place) => isIn(relative(RUNTIME, file), place)));
  for (const file of [...cdkFiles, ...shared]) {
    for (const specifier of importSpecifiers(file).filter((specifier) => specifier.startsWith('.'))) {
      const target = relative(RUNTIME, resolve(dirname(file), specifier));
      const inRuntime = !target.startsWith('..');
      const fromShared = shared.includes(file);
      if ((inRuntime || fromShared) && !SHARED_WITH_CDK.some((place) => isIn(target, place))) {
        problems.push(`${relative(ROOT, file)} → ${inRuntime ? `runtime/src/${target}` : target}: outside ${SHARED_WITH_CDK.join(', ')}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('every place the table names exists, so a move cannot leave a row behind unnoticed', () => {
  const paths = sourceFiles(RUNTIME).map((file) => relative(RUNTIME, file));
  const places = [
    ...LAYERS.flatMap((row) => [...row.files, ...row.mayImport, ...(row.except ?? [])]),
    ...PACKAGE_RULES.flatMap((rule) => rule.onlyFrom),
    ...SHARED_WITH_CDK,
  ];
  assert.deepEqual([...new Set(places)].filter((place) => !paths.some((path) => isIn(path, place))), []);
});
