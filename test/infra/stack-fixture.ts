/**
 * Builds the stack for CDK assertion tests: the app gets cdk.json's context (feature flags),
 * the settings are the defaults with overrides.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { cdkJsonContext } from '../../lib/cdk-json-settings.ts';
import { FtpS3BridgeStack } from '../../lib/ftp-s3-bridge-stack.ts';
import { defaultSettings, validateSettings } from '../../lib/settings.ts';
import type { BridgeSettings } from '../../lib/settings.ts';

export const CDK_JSON = new URL('../../cdk.json', import.meta.url);
export const REPOSITORY_ROOT = new URL('../../', import.meta.url);

/** An existing VPC with two zones, described the way the settings take it. */
export const EXISTING_VPC: Partial<BridgeSettings> = {
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  vpcAvailabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
  vpcPublicSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2', 'subnet-0aaaaaaaaaaaaaaa3'],
  vpcTaskSubnetIds: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2', 'subnet-0bbbbbbbbbbbbbbb3'],
};

export { defaultSettings };

export function settingsWith(overrides: Partial<BridgeSettings> = {}): BridgeSettings {
  return validateSettings({ ...defaultSettings(), ...overrides });
}

export interface Synthesized {
  readonly settings: BridgeSettings;
  readonly app: App;
  readonly stack: FtpS3BridgeStack;
  readonly template: Template;
}

/** A fresh app and stack with the given setting overrides, synthesized. */
export function synthesize(overrides: Partial<BridgeSettings> = {}): Synthesized {
  const settings = settingsWith(overrides);
  const app = new App({ context: cdkJsonContext(CDK_JSON) });
  const stack = new FtpS3BridgeStack(app, 'Bridge', { settings });
  return { settings, app, stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] | string; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

/** The resources of one type, by logical id. */
export function resourcesOfType(template: Template, type: string): Resources {
  const all = template.toJSON()['Resources'] as Resources;
  return Object.fromEntries(Object.entries(all).filter(([, resource]) => resource.Type === type));
}

/** `{ Ref: id }` → id, for following references in the template. */
export function refOf(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null && 'Ref' in value ? String((value as { Ref: unknown }).Ref) : undefined;
}

/** `{ Fn::GetAtt: [id, attr] }` → `id.attr`. */
export function getAttOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !('Fn::GetAtt' in value)) return undefined;
  const [id, attribute] = (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
  return `${id}.${attribute}`;
}
