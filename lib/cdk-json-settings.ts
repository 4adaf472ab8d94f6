/**
 * The settings as `cdk.json` sets them, without command-line overrides: what the
 * README documents and what `cdk synth` deploys when no `-c` is given.
 */
import { readFileSync } from 'node:fs';
import { settingsFromContext } from './settings.ts';
import type { BridgeSettings } from './settings.ts';

/** The `context` object of a cdk.json file. */
export function cdkJsonContext(cdkJson: URL): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(cdkJson, 'utf8'));
  const context = typeof parsed === 'object' && parsed !== null ? (parsed as { context?: unknown }).context : undefined;
  return typeof context === 'object' && context !== null ? (context as Record<string, unknown>) : {};
}

export function defaultSettingsFromCdkJson(cdkJson: URL): BridgeSettings {
  const context = cdkJsonContext(cdkJson);
  return settingsFromContext((key) => context[key], Object.keys(context));
}
