/**
 * Where in the spec sources a machine transition was written: file and line of the transition's
 * config object, found with ts-morph.
 *
 * Many transitions are generated (a builder writes one object literal that becomes a transition in
 * every thread's region, or in every spec built on the shared machine), so a transition cannot be
 * found by its state path alone. Instead every object literal that looks like a transition config
 * (`{ guard, target, actions }`) is a candidate, described by what its source text says for sure:
 * the event key it sits under (`'jbd2.commit': {...}`, `[on('store')]: {...}`,
 * `environment['cpu.evict'] = {...}`), the guard and action names it mentions, whether it has a
 * target. String constants behind local identifiers (`const needs = dax ? 'a' : 'b'`) are
 * followed. The candidate that agrees best with the compiled transition (event type, guard
 * names, action types, target) is its source; a candidate that contradicts it (another event key,
 * a guard it does not have) never is.
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { REPO_ROOT } from '../paths.ts';
import { Node, Project, SyntaxKind, type SourceFile } from 'ts-morph';
import type { CompiledTransition } from '../../checker/xstate/compile.ts';

/**
 * Only literal types within one file are asked of the type checker, so it needs neither the
 * standard library's declarations nor other files: without them it starts in a fraction of the time.
 */
const LIGHT = { noLib: true, types: [] as string[], noResolve: true };

/** The repository root (where specs/ lives). */
export { REPO_ROOT };

export interface SourceLocation {
  /** Path relative to the repository root, with forward slashes. */
  file: string;
  line: number;
  column: number;
  /** The function or constant whose body wrote it (a builder such as `faultTransitions`), if any. */
  within: string | null;
}

/** What a compiled transition says about itself, for matching against source text. */
export interface TransitionFacts {
  label: string;
  eventType: string;
  /** Keys of the source state node's path from the root, e.g. `running`, `T0`, `storeData`. */
  sourcePath: string[];
  guardNames: string[];
  hasGuard: boolean;
  /** Keys of the target nodes; null when the transition has no target. */
  targetKeys: string[] | null;
  actionTypes: string[];
  index: number;
}

const GUARD_COMBINATORS = new Set(['and', 'or', 'not', 'stateIn']);

/** Guard names in a guard label: `and(hasCrashBudget({"budget":1}), isCrashImagePossible)` → both names. */
export function guardNames(label: string | null): string[] {
  if (!label) return [];
  let s = label;
  // Drop JSON params (innermost braces first) so their keys are not taken for names.
  for (let i = 0; i < 20 && /\{[^{}]*\}/.test(s); i++) s = s.replace(/\{[^{}]*\}/g, '');
  return [...new Set((s.match(/[A-Za-z_$][\w$]*/g) ?? []).filter((x) => !GUARD_COMBINATORS.has(x)))];
}

function writtenActionType(a: unknown): string | null {
  if (typeof a === 'string') return a;
  if (a && typeof a === 'object' && typeof (a as { type?: unknown }).type === 'string') return (a as { type: string }).type;
  return null;
}

export function transitionFacts(t: CompiledTransition): TransitionFacts {
  const path: string[] = [];
  for (let n: typeof t.source | undefined = t.source; n?.parent; n = n.parent) path.unshift(n.key);
  return {
    label: t.label,
    eventType: t.eventType,
    sourcePath: path,
    guardNames: guardNames(t.guardLabel),
    hasGuard: t.guardLabel !== null,
    targetKeys: t.def.target?.length ? t.def.target.map((n) => n.key) : null,
    // Names as the config wrote them (a named action implemented by `assign` compiles to
    // `xstate.assign`), and the compiled types too.
    actionTypes: [...new Set([...t.def.actions.map(writtenActionType).filter((x): x is string => x !== null), ...t.actions.map((a) => a.type)])],
    index: t.index,
  };
}

interface Lit {
  value: string;
  /** False when the literal is one branch of a conditional: the transition may use the other. */
  definite: boolean;
}

interface Candidate {
  loc: SourceLocation;
  order: number;
  key: { exact: string | null; lits: string[] } | null;
  /** Position in the array of transitions for its event (0 when it stands alone); null when spreads precede it. */
  position: number | null;
  hasGuard: boolean;
  hasTarget: boolean;
  /** `{ ...base, target }`: properties may come from elsewhere. */
  hasSpread: boolean;
  guardLits: Lit[];
  actionLits: Lit[];
  targetLits: Lit[];
  ancestors: Set<string>;
}

const TRANSITION_KEYS = new Set(['target', 'actions', 'guard', 'reenter', 'description', 'meta']);

function propName(p: Node): string | null {
  if (Node.isPropertyAssignment(p) || Node.isShorthandPropertyAssignment(p)) {
    const n = p.getNameNode();
    if (Node.isIdentifier(n)) return n.getText();
    if (Node.isStringLiteral(n) || Node.isNoSubstitutionTemplateLiteral(n)) return n.getLiteralValue();
    return null;
  }
  return null;
}

function unwrap(n: Node): Node {
  let x = n;
  while (Node.isParenthesizedExpression(x) || Node.isAsExpression(x) || Node.isSatisfiesExpression(x) || Node.isNonNullExpression(x)) {
    x = x.getExpression();
  }
  return x;
}

/** The initializer of the nearest `const/let name = ...` visible from `at` (same file, enclosing scopes). */
function resolveIdentifier(id: Node): Node | null {
  const name = id.getText();
  const pos = id.getStart();
  let best: Node | null = null;
  let bestPos = -1;
  for (const d of id.getSourceFile().getDescendantsOfKind(SyntaxKind.VariableDeclaration)) {
    if (d.getName() !== name) continue;
    const start = d.getStart();
    const scope = d.getFirstAncestor((a) => Node.isBlock(a) || Node.isSourceFile(a) || Node.isArrowFunction(a) || Node.isFunctionDeclaration(a));
    if (!scope || !(scope.getStart() <= pos && pos <= scope.getEnd())) continue;
    if (start < pos && start > bestPos) {
      best = d.getInitializer() ?? null;
      bestPos = start;
    }
  }
  return best;
}

/** Stands for a part of an expression whose value the source text does not say (a parameter, a call). */
const OPEN = '\u0000open';

/**
 * Names an expression refers to as guards or actions: `'x'`, `{ type: 'x' }`, `and([a, 'b'])`,
 * arrays, conditionals; OPEN where a part cannot be read from the text.
 */
function refLits(expr: Node | undefined, definite = true, depth = 0): Lit[] {
  if (!expr) return [];
  if (depth > 4) return [{ value: OPEN, definite: false }];
  const e = unwrap(expr);
  if (Node.isStringLiteral(e) || Node.isNoSubstitutionTemplateLiteral(e)) return [{ value: e.getLiteralValue(), definite }];
  if (Node.isArrayLiteralExpression(e)) {
    return e.getElements().flatMap((x) => (Node.isSpreadElement(x) ? refLits(x.getExpression(), definite, depth + 1) : refLits(x, definite, depth + 1)));
  }
  if (Node.isObjectLiteralExpression(e)) {
    const type = e.getProperty('type');
    if (type && Node.isPropertyAssignment(type)) return refLits(type.getInitializer(), definite, depth + 1);
    if (type && Node.isShorthandPropertyAssignment(type)) return refLits(type.getNameNode(), definite, depth + 1);
    return [{ value: OPEN, definite: false }];
  }
  if (Node.isConditionalExpression(e)) return [...refLits(e.getWhenTrue(), false, depth + 1), ...refLits(e.getWhenFalse(), false, depth + 1)];
  if (Node.isBinaryExpression(e) && ['??', '||'].includes(e.getOperatorToken().getText())) {
    return [...refLits(e.getLeft(), false, depth + 1), ...refLits(e.getRight(), false, depth + 1)];
  }
  if (Node.isCallExpression(e)) {
    const callee = e.getExpression().getText();
    if (GUARD_COMBINATORS.has(callee)) return e.getArguments().flatMap((a) => refLits(a, definite, depth + 1));
    return [{ value: OPEN, definite: false }];
  }
  if (Node.isIdentifier(e)) {
    const init = resolveIdentifier(e);
    return init ? refLits(init, definite, depth + 1) : [{ value: OPEN, definite: false }];
  }
  return [{ value: OPEN, definite: false }];
}

/** The literals say for sure that none of `names` is meant: there are some, none matches, none is open. */
function excludes(lits: Lit[], names: string[]): boolean {
  return lits.length > 0 && !lits.some((l) => l.value === OPEN) && !lits.some((l) => names.includes(l.value));
}

/** String constants an event key is built from: `[on('store')]` → store; `[on(handler)]` → handler's values. */
function keyLits(expr: Node, depth = 0): string[] {
  if (depth > 4) return [];
  const e = unwrap(expr);
  if (Node.isStringLiteral(e) || Node.isNoSubstitutionTemplateLiteral(e)) return [e.getLiteralValue()];
  if (Node.isIdentifier(e)) {
    const init = resolveIdentifier(e);
    return init ? keyLits(init, depth + 1) : [];
  }
  if (Node.isConditionalExpression(e)) return [...keyLits(e.getWhenTrue(), depth + 1), ...keyLits(e.getWhenFalse(), depth + 1)];
  if (Node.isCallExpression(e)) return e.getArguments().flatMap((a) => keyLits(a, depth + 1));
  // `s.call` where `s` is narrowed to a union member: its literal type says which strings it can be.
  if (Node.isPropertyAccessExpression(e)) return literalTypes(e);
  if (Node.isTemplateExpression(e)) {
    return e
      .getTemplateSpans()
      .map((s) => s.getLiteral().getLiteralText().replace(/^\./, ''))
      .filter((x) => x.length > 0);
  }
  return [];
}

/** The string literal types an expression can have, from the type checker (within its own file). */
function literalTypes(e: Node): string[] {
  const t = e.getType();
  const parts = t.isUnion() ? t.getUnionTypes() : [t];
  const out = parts.filter((p) => p.isStringLiteral()).map((p) => String(p.getLiteralValue()));
  return out.length === parts.length ? out : [];
}

/** The event key a transition object sits under, if its position says. */
function eventKeyOf(obj: Node): Candidate['key'] {
  let x: Node = obj;
  let parent = x.getParent();
  while (parent && (Node.isParenthesizedExpression(parent) || Node.isAsExpression(parent) || Node.isSatisfiesExpression(parent))) {
    x = parent;
    parent = x.getParent();
  }
  if (parent && Node.isArrayLiteralExpression(parent)) {
    x = parent;
    parent = x.getParent();
  }
  if (!parent) return null;
  if (Node.isPropertyAssignment(parent) && parent.getInitializer() === x) {
    const n = parent.getNameNode();
    if (Node.isIdentifier(n)) return { exact: n.getText(), lits: [] };
    if (Node.isStringLiteral(n) || Node.isNoSubstitutionTemplateLiteral(n)) return { exact: n.getLiteralValue(), lits: [] };
    if (Node.isComputedPropertyName(n)) return { exact: null, lits: keyLits(n.getExpression()) };
    return null;
  }
  // environment['cpu.evict'] = { ... }
  if (Node.isBinaryExpression(parent) && parent.getOperatorToken().getKind() === SyntaxKind.EqualsToken && parent.getRight() === x) {
    const left = unwrap(parent.getLeft());
    if (Node.isElementAccessExpression(left)) {
      const arg = left.getArgumentExpression();
      if (arg && (Node.isStringLiteral(arg) || Node.isNoSubstitutionTemplateLiteral(arg))) return { exact: arg.getLiteralValue(), lits: [] };
      if (arg) return { exact: null, lits: keyLits(arg) };
    }
  }
  return null;
}

function positionOf(obj: Node): number | null {
  const parent = obj.getParent();
  if (!parent || !Node.isArrayLiteralExpression(parent)) return 0;
  const elements = parent.getElements();
  const i = elements.indexOf(obj as never);
  return elements.slice(0, i).some((e) => Node.isSpreadElement(e)) ? null : i;
}

function ancestorsOf(obj: Node): Set<string> {
  const out = new Set<string>();
  for (const a of obj.getAncestors()) {
    const name = propName(a);
    if (name) out.add(name);
    if (Node.isCaseClause(a)) {
      const e = unwrap(a.getExpression());
      if (Node.isStringLiteral(e)) out.add(e.getLiteralValue());
    }
  }
  return out;
}

/** Name of the nearest enclosing named function (declaration, or arrow/function bound to a const). */
function enclosingName(node: Node): string | null {
  for (const a of node.getAncestors()) {
    if (Node.isFunctionDeclaration(a) || Node.isMethodDeclaration(a)) return a.getName() ?? null;
    if (Node.isArrowFunction(a) || Node.isFunctionExpression(a)) {
      const p = a.getParent();
      if (p && Node.isVariableDeclaration(p)) return p.getName();
      if (p && Node.isPropertyAssignment(p)) return propName(p);
    }
  }
  return null;
}

function candidatesOf(file: SourceFile, relPath: string, startOrder: number): Candidate[] {
  const out: Candidate[] = [];
  let order = startOrder;
  file.forEachDescendant((node) => {
    if (!Node.isObjectLiteralExpression(node)) return;
    const props = node.getProperties();
    const named = props.map(propName);
    if (!named.some((n) => n === 'target' || n === 'actions' || n === 'guard')) return;
    if (!named.every((n, i) => (n !== null ? TRANSITION_KEYS.has(n) : Node.isSpreadAssignment(props[i])))) return;
    const init = (name: string): Node | undefined => {
      const p = node.getProperty(name);
      if (!p) return undefined;
      if (Node.isPropertyAssignment(p)) return p.getInitializer();
      if (Node.isShorthandPropertyAssignment(p)) return p.getNameNode();
      return undefined;
    };
    const { line, column } = file.getLineAndColumnAtPos(node.getStart());
    out.push({
      loc: { file: relPath, line, column, within: enclosingName(node) },
      order: order++,
      key: eventKeyOf(node),
      position: positionOf(node),
      hasGuard: named.includes('guard'),
      hasTarget: named.includes('target'),
      hasSpread: props.some((p) => Node.isSpreadAssignment(p)),
      guardLits: refLits(init('guard')),
      actionLits: refLits(init('actions')),
      targetLits: refLits(init('target')).filter((l) => !l.value.includes(' ')),
      ancestors: ancestorsOf(node),
    });
  });
  return out;
}

/** How well a candidate agrees with a transition; -Infinity when it contradicts it. */
function score(c: Candidate, t: TransitionFacts): number {
  let s = 0;
  const ev = t.eventType;
  const matchesEvent = (lit: string) => ev === lit || ev.endsWith(`.${lit}`);
  if (c.key) {
    if (c.key.exact !== null) {
      if (c.key.exact !== ev) return -Infinity;
      s += 8;
    } else if (c.key.lits.length) {
      if (!c.key.lits.some(matchesEvent)) return -Infinity;
      s += 5;
    }
  }
  // A guarded transition comes from a config with a guard, a targeted one from one with a target.
  if (c.hasGuard !== t.hasGuard) {
    if (!c.hasSpread) return -Infinity;
    s -= 6;
  }
  if (c.hasGuard && t.hasGuard) {
    for (const g of t.guardNames) if (c.guardLits.some((l) => l.value === g)) s += 3;
    // A guard the text names for sure is part of the transition's guard, or this is another transition.
    for (const l of c.guardLits) if (l.definite && l.value !== OPEN && !t.guardNames.includes(l.value)) return -Infinity;
    if (excludes(c.guardLits, t.guardNames)) s -= 6;
  }
  for (const a of new Set(t.actionTypes)) if (c.actionLits.some((l) => l.value === a)) s += 2;
  for (const l of c.actionLits) if (l.definite && l.value !== OPEN && !t.actionTypes.includes(l.value)) return -Infinity;
  if (t.actionTypes.length && excludes(c.actionLits, t.actionTypes)) s -= 5;
  if (c.hasTarget !== (t.targetKeys !== null)) {
    if (!c.hasSpread) return -Infinity;
    s -= 4;
  }
  if (c.hasTarget && t.targetKeys) {
    const keys = c.targetLits.map((l) => (l.value === OPEN ? l : { ...l, value: l.value.replace(/^[#.]/, '').split('.').pop()! }));
    for (const l of keys) {
      if (l.value === OPEN) continue;
      if (t.targetKeys.includes(l.value)) s += 2;
      else if (l.definite) return -Infinity;
    }
    if (excludes(keys, t.targetKeys)) s -= 3;
  }
  for (const k of t.sourcePath) if (c.ancestors.has(k)) s += 1;
  if (c.position !== null) s += c.position === t.index ? 1 : -1;
  return s;
}

function listTs(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...listTs(p));
    else if (e.endsWith('.ts') && !e.endsWith('.d.ts') && !e.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** Every transition-like object literal under the given folders, ready to be matched. */
export class SourceIndex {
  private readonly memo = new Map<string, SourceLocation | null>();

  private constructor(private readonly candidates: Candidate[]) {}

  /**
   * Reads the .ts files under `dirs` (relative to `root`): by default specs/, where machines are
   * written; and those of spec folders elsewhere on disk (`outside`, a spec given by path), whose
   * files are shown as `<folder>/<file>` (e.g. `async-commit/machine.ts`). Parsing them takes seconds; a process that renders reports more than once (tests,
   * the fuzz run) reads them once.
   */
  static load(root = REPO_ROOT, dirs = ['specs'], outside: string[] = []): SourceIndex {
    const key = `${root}\u0000${dirs.join('\u0000')}\u0001${[...new Set(outside)].sort().join('\u0000')}`;
    let index = SourceIndex.loaded.get(key);
    if (!index) SourceIndex.loaded.set(key, (index = SourceIndex.read(root, dirs, outside)));
    return index;
  }

  private static readonly loaded = new Map<string, SourceIndex>();

  private static read(root: string, dirs: string[], outside: string[]): SourceIndex {
    const project = new Project({ useInMemoryFileSystem: false, skipAddingFilesFromTsConfig: true, skipFileDependencyResolution: true, compilerOptions: LIGHT });
    const candidates: Candidate[] = [];
    const add = (base: string, path: string) => {
      const file = project.addSourceFileAtPath(path);
      candidates.push(...candidatesOf(file, relative(base, path).split(sep).join('/'), candidates.length));
    };
    for (const d of dirs) for (const path of listTs(join(root, d))) add(root, path);
    for (const folder of [...new Set(outside)].sort()) {
      for (const path of listTs(folder)) if (!path.includes(`${sep}node_modules${sep}`) && !path.includes(`${sep}reports${sep}`)) add(dirname(folder), path);
    }
    return new SourceIndex(candidates);
  }

  /** Builds an index from file contents (path → text), e.g. in tests. */
  static fromTexts(files: Record<string, string>): SourceIndex {
    const project = new Project({ useInMemoryFileSystem: true, skipFileDependencyResolution: true, compilerOptions: LIGHT });
    const candidates: Candidate[] = [];
    for (const path of Object.keys(files).sort()) {
      const file = project.createSourceFile(`/${path}`, files[path]);
      candidates.push(...candidatesOf(file, path, candidates.length));
    }
    return new SourceIndex(candidates);
  }

  get size(): number {
    return this.candidates.length;
  }

  /** Every candidate's score for a transition, best first (for debugging a miss). */
  explain(t: TransitionFacts): { loc: SourceLocation; score: number }[] {
    return this.candidates
      .map((c) => ({ loc: c.loc, score: score(c, t) }))
      .filter((x) => x.score > -Infinity)
      .sort((a, b) => b.score - a.score);
  }

  /** The source of a transition, or null when no candidate agrees with it. */
  locate(t: TransitionFacts): SourceLocation | null {
    const memoKey = `${t.label}\u0000${t.actionTypes.join(',')}`;
    if (this.memo.has(memoKey)) return this.memo.get(memoKey)!;
    let best: Candidate | null = null;
    let bestScore = -Infinity;
    let second = -Infinity;
    for (const c of this.candidates) {
      const s = score(c, t);
      if (s > bestScore) {
        second = bestScore;
        best = c;
        bestScore = s;
      } else if (s > second) second = s;
    }
    // Enough evidence, or (for a builder that names nothing literally) the one candidate that
    // contradicts nothing and fits better than any other.
    const found = best && (bestScore >= 3 || (bestScore >= 0 && bestScore > second)) ? best.loc : null;
    this.memo.set(memoKey, found);
    return found;
  }
}
