/**
 * The `context` of cdk.json: the CDK feature flags the app runs with (and any settings an
 * operator keeps there; the repository's own cdk.json sets none, the defaults live in
 * settings-schema.ts).
 */
import { readFileSync } from 'node:fs';

/** The `context` object of a cdk.json file. */
export function cdkJsonContext(cdkJson: URL): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(cdkJson, 'utf8'));
  const context = typeof parsed === 'object' && parsed !== null ? (parsed as { context?: unknown }).context : undefined;
  return typeof context === 'object' && context !== null ? (context as Record<string, unknown>) : {};
}
