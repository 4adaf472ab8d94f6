/**
 * The CDK app and the runtime read the same kinds of value by the same rules
 * (runtime/src/settings/validators.ts): one table of cases, each run through the CDK
 * settings and through the runtime's environment, must give the same answer on both
 * sides. A bucket or prefix the CDK app deploys is one the container then accepts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../runtime/src/config.ts';
import { SettingsError, type BridgeSettings } from '../../lib/settings.ts';
import { settingsWith } from './stack-fixture.ts';

/** What a value gives: the value read, or refused. */
type Outcome = { readonly value: unknown } | 'refused';

function cdkOutcome(overrides: Record<string, unknown>, pick: (settings: BridgeSettings) => unknown): Outcome {
  try {
    return { value: pick(settingsWith(overrides as Partial<BridgeSettings>)) };
  } catch (error) {
    if (error instanceof SettingsError) return 'refused';
    throw error;
  }
}

function runtimeOutcome(variable: string, raw: string, pick: (config: ReturnType<typeof loadConfig>) => unknown): Outcome {
  try {
    return { value: pick(loadConfig({ S3_BUCKET: 'bucket', FTP_USERS_FILE: '/u.json', [variable]: raw })) };
  } catch (error) {
    if (error instanceof ConfigError && error.variable === variable) return 'refused';
    throw error;
  }
}

interface Kind {
  readonly setting: keyof BridgeSettings;
  readonly variable: string;
  /** Other CDK settings a value needs to be valid on its own (active mode needs NAT). */
  readonly with?: Partial<BridgeSettings>;
  readonly cdk: (settings: BridgeSettings) => unknown;
  readonly runtime: (config: ReturnType<typeof loadConfig>) => unknown;
  /** raw value → what both sides must make of it. */
  readonly cases: readonly (readonly [string, Outcome])[];
}

const refused = 'refused' as const;
const KINDS: readonly Kind[] = [
  {
    setting: 'bucketName',
    variable: 'S3_BUCKET',
    cdk: (s) => s.bucketName,
    runtime: (c) => c.s3.bucket,
    cases: [
      ['partner-files', { value: 'partner-files' }],
      ['my.bucket-1', { value: 'my.bucket-1' }],
      ['abc', { value: 'abc' }],
      ['a'.repeat(63), { value: 'a'.repeat(63) }],
      ['ab', refused],
      ['a'.repeat(64), refused],
      ['Partner_Files', refused],
      ['partner_files', refused],
      ['PartnerFiles', refused],
      ['-partner', refused],
      ['partner-', refused],
      ['partner..files', refused],
      ['192.168.5.4', refused],
      ['xn--partner', refused],
      ['sthree-partner', refused],
      ['partner-s3alias', refused],
      ['partner--ol-s3', refused],
      ['no/slash', refused],
    ],
  },
  {
    setting: 'bucketPrefix',
    variable: 'S3_PREFIX',
    cdk: (s) => s.bucketPrefix,
    runtime: (c) => c.s3.prefix,
    cases: [
      ['ftp', { value: 'ftp' }],
      ['/ftp/inbound/', { value: 'ftp/inbound' }],
      ['ftp//inbound', { value: 'ftp/inbound' }],
      ['/', { value: '' }],
      ["it's_(1)!-x.y", { value: "it's_(1)!-x.y" }],
      ['..a/b..', { value: '..a/b..' }],
      ['x'.repeat(512), { value: 'x'.repeat(512) }],
      ['x'.repeat(513), refused],
      ['ftp/../other', refused],
      ['./ftp', refused],
      ['..', refused],
      ['ftp\\inbound', refused],
      ['ftp\u0000', refused],
      ['ftp/*', refused],
      ['ftp/?', refused],
      ['ftp/${aws:username}', refused],
      ['with space', refused],
      ['caf\u00e9', refused],
    ],
  },
  {
    setting: 'activeMode',
    variable: 'FTP_ACTIVE_MODE',
    with: { egress: 'nat' },
    cdk: (s) => s.activeMode,
    runtime: (c) => c.activeMode,
    cases: [
      ['on', { value: true }],
      ['YES', { value: true }],
      ['true', { value: true }],
      ['1', { value: true }],
      ['off', { value: false }],
      ['No', { value: false }],
      ['0', { value: false }],
      ['maybe', refused],
      ['enabled', refused],
    ],
  },
  {
    setting: 'controlPort',
    variable: 'FTP_PORT',
    cdk: (s) => s.controlPort,
    runtime: (c) => c.controlPort,
    cases: [
      ['21', { value: 21 }],
      ['65535', { value: 65535 }],
      ['0', refused],
      ['65536', refused],
      ['-21', refused],
      ['21.5', refused],
      ['twenty-one', refused],
    ],
  },
];

describe('the CDK app and the runtime agree on every shared kind of value', () => {
  for (const kind of KINDS) {
    for (const [raw, expected] of kind.cases) {
      test(`${kind.setting} / ${kind.variable} ${JSON.stringify(raw.length > 40 ? `${raw.slice(0, 20)}… (${raw.length})` : raw)}`, () => {
        assert.deepEqual(cdkOutcome({ ...kind.with, [kind.setting]: raw }, kind.cdk), expected, `CDK bridge:${kind.setting}`);
        assert.deepEqual(runtimeOutcome(kind.variable, raw, kind.runtime), expected, `runtime ${kind.variable}`);
      });
    }
  }
});
