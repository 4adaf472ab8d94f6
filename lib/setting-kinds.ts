/**
 * The kinds of value a CDK setting can hold, as zod schemas over the validators the
 * runtime uses too (runtime/src/settings/validators.ts). Context values arrive as JSON
 * from cdk.json / cdk.context.json, or as strings from `-c bridge:<name>=<value>`; each
 * kind takes both. A bad value becomes one zod issue whose message says what is allowed
 * ("expected …, got …"); settings.ts prefixes it with the context key.
 */
import { z } from 'zod';
import { shown, wholeNumber, type Validator } from '../runtime/src/settings/validators.ts';

/** A value read by a shared validator. */
export function checked<T>(validator: Validator<T>) {
  return z.unknown().transform((raw, ctx): T => {
    const result = validator(raw);
    if (result.ok) return result.value;
    ctx.addIssue({ code: 'custom', message: result.problem });
    return z.NEVER;
  });
}

/** A string matching `pattern`; `what` says what is allowed, e.g. "a VPC id such as vpc-0123456789abcdef0". */
export function matching(pattern: RegExp, what: string): Validator<string> {
  return (raw) => (typeof raw === 'string' && pattern.test(raw) ? { ok: true, value: raw } : { ok: false, problem: `expected ${what}, got ${shown(raw)}` });
}

/** A whole number from a fixed list (a JSON number or its digits). */
export function numberIn(values: readonly number[], what = `one of ${values.join(', ')}`): Validator<number> {
  const whole = wholeNumber({ min: 0, max: Number.MAX_SAFE_INTEGER });
  return (raw) => {
    const result = whole(raw);
    return result.ok && values.includes(result.value) ? result : { ok: false, problem: `expected ${what}, got ${shown(raw)}` };
  };
}

/** An optional setting: unset, JSON null or '' (as cdk.json used to write it) all mean "none". */
export function optional<T>(validator: Validator<T>) {
  return checked<T | undefined>((raw) => (raw === null || raw === '' ? { ok: true, value: undefined } : validator(raw))).optional();
}

/**
 * A list of strings: a JSON array, a JSON array in a string, or comma-separated
 * (`-c bridge:allowedCidrs=203.0.113.0/24,198.51.100.0/24`). Every bad item is its own
 * problem; `distinct` names what a repeated item is.
 */
export function list(item: Validator<string>, options: { readonly min?: number; readonly distinct?: string } = {}) {
  return z.unknown().transform((raw, ctx): readonly string[] => {
    const items = listItems(raw);
    if (items === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a list of strings (a JSON array, or comma-separated with -c), got ${shown(raw)}` });
      return z.NEVER;
    }
    const min = options.min ?? 0;
    if (items.length < min) ctx.addIssue({ code: 'custom', message: `expected at least ${min} item${min === 1 ? '' : 's'}, got ${shown(raw)}` });
    const values: string[] = [];
    for (const text of items) {
      const result = item(text);
      if (result.ok) values.push(result.value);
      else ctx.addIssue({ code: 'custom', message: result.problem });
    }
    const repeated = values.find((value, index) => values.indexOf(value) !== index);
    if (options.distinct !== undefined && repeated !== undefined) {
      ctx.addIssue({ code: 'custom', message: `expected each ${options.distinct} once, got ${shown(repeated)} twice` });
    }
    return values;
  });
}

function listItems(raw: unknown): readonly string[] | undefined {
  let items = raw;
  if (typeof raw === 'string') {
    const text = raw.trim();
    if (text.startsWith('[')) {
      try {
        items = JSON.parse(text);
      } catch {
        return undefined;
      }
    } else {
      items = text === '' ? [] : text.split(',');
    }
  }
  if (!Array.isArray(items) || !items.every((item): item is string => typeof item === 'string')) return undefined;
  return items.map((item) => item.trim());
}
