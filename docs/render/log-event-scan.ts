/**
 * The events the runtime logs, read from its source: every log call (`logger.info(...)`,
 * `this.log.warn(...)`, `logger[level](...)`) and the string literals of the `event`
 * property of its first argument (both sides of a conditional; a variable counts through
 * the object literal it was declared with), with the level where the call names one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);
const RUNTIME = fileURLToPath(new URL('../../runtime/src', import.meta.url));

export interface LoggedEvents {
  /** Each event, with the levels its calls name (none when they choose it at run time). */
  readonly events: ReadonlyMap<string, ReadonlySet<string>>;
  /** Log calls without an event, as `file:line`, or with one that is not a string literal. */
  readonly withoutEvent: readonly string[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The level a call names (`logger.warn`), or undefined for `logger[level]`; null when it is no log call. */
function logLevel(callee: ts.Expression): string | undefined | null {
  const target = ts.isPropertyAccessExpression(callee) || ts.isElementAccessExpression(callee) ? callee.expression : undefined;
  if (target === undefined || !/\blog(ger)?$/i.test(target.getText().replace(/^this\.#?/, ''))) return null;
  if (ts.isElementAccessExpression(callee)) return undefined;
  const name = (callee as ts.PropertyAccessExpression).name.text;
  return LOG_LEVELS.has(name) ? name : null;
}

export function loggedEvents(): LoggedEvents {
  const events = new Map<string, Set<string>>();
  const withoutEvent: string[] = [];
  for (const file of sourceFiles(RUNTIME)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const declared = new Map<string, ts.Expression>();
    const collect = (node: ts.Node): void => {
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) declared.set(node.name.text, node.initializer);
      ts.forEachChild(node, collect);
    };
    collect(source);
    const visit = (node: ts.Node): void => {
      const level = ts.isCallExpression(node) ? logLevel(node.expression) : null;
      if (ts.isCallExpression(node) && level !== null) {
        let fields: ts.Expression | undefined = node.arguments[0];
        if (fields && ts.isIdentifier(fields)) fields = declared.get(fields.text);
        const event = fields && ts.isObjectLiteralExpression(fields)
          ? fields.properties.find((property) => ts.isPropertyAssignment(property) && property.name.getText() === 'event')
          : undefined;
        if (event && ts.isPropertyAssignment(event)) {
          const literals = (expression: ts.Expression): void => {
            if (ts.isStringLiteral(expression)) {
              const levels = events.get(expression.text) ?? new Set<string>();
              if (level !== undefined) levels.add(level);
              events.set(expression.text, levels);
            } else if (ts.isConditionalExpression(expression)) [expression.whenTrue, expression.whenFalse].forEach(literals);
            else if (ts.isParenthesizedExpression(expression)) literals(expression.expression);
            else withoutEvent.push(`${file}: an event that is not a string literal: ${expression.getText()}`);
          };
          literals(event.initializer);
        } else {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart());
          withoutEvent.push(`${file.slice(RUNTIME.length + 1)}:${line + 1}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { events, withoutEvent };
}
