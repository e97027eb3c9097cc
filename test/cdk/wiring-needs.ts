/**
 * The grant guard's half that reads the handlers: which environment variables each handler needs,
 * derived from its source with the TypeScript parser (no handler is imported or run).
 *
 * A handler takes its adapters from lambdas/wiring.ts (the composition root); each wiring entry reads
 * its variables with `requiredEnv(ENV.x)` or `optionalEnv(ENV.x)` and may build on other entries
 * (`notifier` uses `mailer`, `slack`, `linkKey`, ...). A handler's needs are the variables of the
 * entries it imports, followed through those references.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ENV } from '../../contracts/environment';
import { FUNCTION_ENTRIES, type FunctionId } from '../../contracts/functions';
import { ROOT } from './support';

export const WIRING_FILE = 'lambdas/wiring.ts';

/** The variables one piece of code reads: the value of each `ENV.x` it names. */
export interface EnvReads {
  /** Read with `requiredEnv` (or anything but `optionalEnv`): the function fails without it. */
  readonly required: ReadonlySet<string>;
  /** Read with `optionalEnv`: the feature is off without it. */
  readonly optional: ReadonlySet<string>;
}

const ENV_VALUES = ENV as Record<string, string>;

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.ES2022, true);
}

/** The top-level declarations of wiring.ts by name, with what each reads and which other ones it uses. */
function wiringEntries(): Map<string, { reads: EnvReads; uses: Set<string> }> {
  const source = parse(WIRING_FILE);
  const declarations = new Map<string, ts.Node>();
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement))
      for (const d of statement.declarationList.declarations)
        if (ts.isIdentifier(d.name) && d.initializer) declarations.set(d.name.text, d.initializer);
    if (ts.isFunctionDeclaration(statement) && statement.name) declarations.set(statement.name.text, statement);
  }
  const entries = new Map<string, { reads: EnvReads; uses: Set<string> }>();
  for (const [name, node] of declarations) {
    const required = new Set<string>();
    const optional = new Set<string>();
    const uses = new Set<string>();
    const visit = (n: ts.Node): void => {
      if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'ENV') {
        const variable = ENV_VALUES[n.name.text];
        if (!variable) throw new Error(`${WIRING_FILE}: ENV.${n.name.text} is not in contracts/environment.ts`);
        const call = n.parent;
        const readOptionally =
          ts.isCallExpression(call) && ts.isIdentifier(call.expression) && call.expression.text === 'optionalEnv';
        (readOptionally ? optional : required).add(variable);
        return;
      }
      if (ts.isIdentifier(n) && n.text !== name && declarations.has(n.text)) uses.add(n.text);
      ts.forEachChild(n, visit);
    };
    visit(node);
    entries.set(name, { reads: { required, optional }, uses });
  }
  return entries;
}

/** The names a file imports from lambdas/wiring.ts. */
function wiredImports(file: string): string[] {
  const names: string[] = [];
  for (const statement of parse(file).statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    if (!/(^|\/)wiring$/.test(statement.moduleSpecifier.text)) continue;
    const bindings = statement.importClause?.namedBindings;
    if (!bindings || !ts.isNamedImports(bindings))
      throw new Error(`${file}: import the wiring by name (import { requests } from '../wiring')`);
    for (const element of bindings.elements) names.push((element.propertyName ?? element.name).text);
  }
  return names;
}

/** What each function's handler reads, through the wiring entries it imports. */
export function handlerNeeds(): Record<FunctionId, EnvReads> {
  const entries = wiringEntries();
  const closure = (name: string, seen = new Set<string>()): EnvReads => {
    const required = new Set<string>();
    const optional = new Set<string>();
    const add = (n: string) => {
      if (seen.has(n)) return;
      seen.add(n);
      const entry = entries.get(n);
      if (!entry) throw new Error(`${WIRING_FILE} has no top-level ${n}`);
      entry.reads.required.forEach((v) => required.add(v));
      entry.reads.optional.forEach((v) => optional.add(v));
      entry.uses.forEach(add);
    };
    add(name);
    return { required, optional };
  };
  const needs = {} as Record<FunctionId, EnvReads>;
  for (const [functionId, file] of Object.entries(FUNCTION_ENTRIES) as Array<[FunctionId, string]>) {
    const required = new Set<string>();
    const optional = new Set<string>();
    for (const name of wiredImports(file)) {
      const reads = closure(name);
      reads.required.forEach((v) => required.add(v));
      reads.optional.forEach((v) => optional.add(v));
    }
    required.forEach((v) => optional.delete(v));
    needs[functionId] = { required, optional };
  }
  return needs;
}

/** Files under lambdas/ that name ENV or process.env: the wiring, its env helper, and Powertools' two adapters. */
export function filesReadingEnvironment(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of ts.sys.readDirectory(join(ROOT, dir), ['.ts'])) {
      const text = readFileSync(entry, 'utf8');
      if (/\bENV\.\w|\bprocess\.env\b/.test(text)) found.push(entry.slice(ROOT.length + 1));
    }
  };
  walk('lambdas');
  return found.sort();
}
