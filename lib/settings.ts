/**
 * The deployment's settings: read from CDK context (`-c bridge:<name>=<value>`, or the
 * `context` of cdk.json / cdk.context.json), typed, and checked against each other and
 * against the AWS limits in docs/design.md before any construct is built. Every problem
 * is reported at once, each naming its context key and what is allowed. The settings,
 * their defaults and their meanings are in settings-schema.ts; the rules between them in
 * settings-rules.ts.
 */
import type { z } from 'zod';
import { SETTINGS_RULES } from './settings-rules.ts';
import { SETTING_NAMES, SETTINGS_PREFIX, settingFields, type BridgeSettings, type SettingName } from './settings-schema.ts';

export { SETTINGS_PREFIX } from './settings-schema.ts';
export type { BridgeSettings, EgressMode, SettingName } from './settings-schema.ts';

/** Thrown for invalid settings; its message lists every problem, one per line. */
export class SettingsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid ftp-s3-bridge settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
    this.problems = problems;
  }
}

/** The part of a zod parse a rule's `when` sees. */
interface ParsePayload {
  readonly issues: readonly { readonly path?: readonly PropertyKey[] }[];
}

/** A rule runs when none of the settings it reads has a problem of its own. */
function whenReadsValid(reads: readonly SettingName[]) {
  return { when: (payload: ParsePayload) => !payload.issues.some((issue) => reads.includes(issue.path?.[0] as SettingName)) };
}

/** The fields and the rules between them: one zod schema, so one parse reports every problem. */
const settingsSchema = SETTINGS_RULES.reduce(
  (schema, rule) =>
    schema.superRefine((settings, ctx) => {
      rule.check(settings, (name, problem) => ctx.addIssue({ code: 'custom', path: [name], message: problem }));
    }, whenReadsValid(rule.reads)),
  settingFields,
);

/** The problem lines of a failed parse: `bridge:<name>: <problem>`. */
function problemLines(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map(unknownSetting);
    const name = issue.path[0];
    return [name === undefined ? issue.message : `${SETTINGS_PREFIX}${String(name)}: ${issue.message}`];
  });
}

function unknownSetting(name: string): string {
  const distance = (known: SettingName) => editDistance(name.toLowerCase(), known.toLowerCase());
  const nearest = [...SETTING_NAMES].sort((a, b) => distance(a) - distance(b))[0]!;
  const hint = distance(nearest) <= 3 ? `did you mean ${SETTINGS_PREFIX}${nearest}?` : 'the settings are listed in docs/deploy.md, "Settings"';
  return `${SETTINGS_PREFIX}${name} is not a setting; ${hint}`;
}

/** Levenshtein distance, for the did-you-mean of an unknown setting. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function parse(input: Record<string, unknown>): BridgeSettings {
  const result = settingsSchema.safeParse(input);
  if (!result.success) throw new SettingsError(problemLines(result.error.issues));
  // Every setting present, unset ones as undefined, in the table's order.
  return Object.fromEntries(SETTING_NAMES.map((name) => [name, result.data[name]])) as BridgeSettings;
}

/**
 * Reads the settings from the app's context (`app.node.getAllContext()`): every
 * `bridge:` key, unset ones taking their defaults. JSON null counts as unset.
 */
export function settingsFromContext(context: Readonly<Record<string, unknown>>): BridgeSettings {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (!key.startsWith(SETTINGS_PREFIX) || value === undefined || value === null) continue;
    input[key.slice(SETTINGS_PREFIX.length)] = typeof value === 'string' ? value.trim() : value;
  }
  return parse(input);
}

/** The settings when nothing is set: the defaults of settings-schema.ts. */
export function defaultSettings(): BridgeSettings {
  return parse({});
}

/** Checks settings built in code (tests, other apps; unset ones take their defaults); returns them, normalised, or throws SettingsError. */
export function validateSettings(settings: Partial<BridgeSettings>): BridgeSettings {
  return parse({ ...settings });
}
