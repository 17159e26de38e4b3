/**
 * The Cozy permission model (rules, scope strings, checks).
 *
 * A scope string is a space-separated list of rules; each rule is
 *   `type[:verbs[:values[:selector]]]`
 * with verbs = `ALL` or a comma-separated subset of GET,POST,PUT,PATCH,DELETE, values a
 * comma-separated list, e.g. `io.cozy.settings io.cozy.files:GET,POST io.cozy.files:GET:id1,id2:dir_id`.
 * The scope `*` alone is the maximal set (a single rule of type `*` with all verbs).
 * A type may end with `.*` (at least three dots in total, e.g. `io.cozy.bank.*`): it
 * matches that doctype and every doctype below it.
 *
 * A set of permissions is an array of rules; a check passes when any rule allows it.
 */

export const VERBS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Verb = (typeof VERBS)[number];

export interface PermissionRule {
  /** Doctype, `prefix.*` wildcard, or `*` (maximal set only). */
  type: string;
  /** Allowed verbs; 'ALL' = every verb. */
  verbs: Verb[] | 'ALL';
  /** When present and non-empty, the rule covers only these documents (ids, or `selector` values). */
  values?: string[];
  /** The field the values apply to; absent = document ids. */
  selector?: string;
}

export type PermissionSet = PermissionRule[];

/** The typed error of this module (invalid scope string, manifest or rule). */
export class InvalidScopeError extends Error {
  readonly code = 'invalid_scope' as const;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidScopeError';
  }
}

export const MAXIMAL_TYPE = '*';
export const MAX_SCOPE_LENGTH = 16 * 1024;

/** The maximal permission set (scope `*`). */
export function maximalSet(): PermissionSet {
  return [{ type: MAXIMAL_TYPE, verbs: 'ALL' }];
}

export function isVerb(value: unknown): value is Verb {
  return typeof value === 'string' && (VERBS as readonly string[]).includes(value);
}

const DOCTYPE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

function isWildcard(type: string): boolean {
  return type.endsWith('.*');
}

function validateType(type: unknown): string {
  if (typeof type !== 'string' || type.length === 0) throw new InvalidScopeError('a permission rule needs a type');
  if (type.length > 254) throw new InvalidScopeError('permission type too long');
  if (isWildcard(type)) {
    // Wildcards on too large domains (e.g. `io.*`) are refused.
    if ((type.match(/\./g) ?? []).length < 3 || !DOCTYPE.test(type.slice(0, -2))) {
      throw new InvalidScopeError(`invalid wildcard permission type: ${type}`);
    }
    return type;
  }
  if (!DOCTYPE.test(type)) throw new InvalidScopeError(`invalid permission type: ${type}`);
  return type;
}

/** Normalizes verbs: 'ALL', an empty list and a list of all five verbs all become 'ALL'. */
function normalizeVerbs(list: readonly unknown[]): Verb[] | 'ALL' {
  if (list.includes('ALL')) return 'ALL';
  const set = new Set<Verb>();
  for (const v of list) {
    if (!isVerb(v)) throw new InvalidScopeError(`invalid verb: ${String(v)}`);
    set.add(v);
  }
  if (set.size === 0 || set.size === VERBS.length) return 'ALL';
  return VERBS.filter((v) => set.has(v));
}

function validateValues(values: readonly unknown[]): string[] {
  return values.map((v) => {
    if (typeof v !== 'string' || v.length === 0) throw new InvalidScopeError('permission values must be non-empty strings');
    return v;
  });
}

function parseRule(part: string): PermissionRule {
  const pieces = part.split(':');
  if (pieces.length > 4) throw new InvalidScopeError(`too many parts in permission rule: ${part}`);
  const [type, verbs, values, selector] = pieces;
  if (type === MAXIMAL_TYPE) throw new InvalidScopeError('`*` is only valid as the whole scope');
  const rule: PermissionRule = { type: validateType(type), verbs: 'ALL' };
  if (verbs !== undefined) {
    if (verbs === '') throw new InvalidScopeError(`empty verbs in permission rule: ${part}`);
    rule.verbs = normalizeVerbs(verbs.split(','));
  }
  if (values !== undefined) {
    if (values === '') throw new InvalidScopeError(`empty values in permission rule: ${part}`);
    rule.values = validateValues(values.split(','));
  }
  if (selector !== undefined) {
    if (selector === '') throw new InvalidScopeError(`empty selector in permission rule: ${part}`);
    rule.selector = selector;
  }
  return rule;
}

/**
 * Parses a scope string. Leading/trailing whitespace is ignored and rules may be
 * separated by runs of spaces. Throws only `InvalidScopeError` (empty scope,
 * non-string, bad type, unknown verb, empty part, too many parts, `*` mixed with rules).
 */
export function parseScope(scope: unknown): PermissionSet {
  if (typeof scope !== 'string') throw new InvalidScopeError('scope must be a string');
  if (scope.length > MAX_SCOPE_LENGTH) throw new InvalidScopeError('scope too long');
  const trimmed = scope.trim();
  if (trimmed === '') throw new InvalidScopeError('empty scope');
  if (trimmed === MAXIMAL_TYPE) return maximalSet();
  return trimmed.split(/ +/).map(parseRule);
}

const APP_SCOPE = /^@io\.cozy\.apps\/([A-Za-z0-9_-]+)$/;

/**
 * The webapp slug of an `@io.cozy.apps/<slug>` scope (which stands for that app's
 * manifest permissions and must be expanded with `permissionsFromManifest` before
 * use), or null for any other scope. `parseScope` rejects such scopes.
 */
export function appSlugFromScope(scope: unknown): string | null {
  if (typeof scope !== 'string') return null;
  const m = APP_SCOPE.exec(scope.trim());
  return m ? m[1]! : null;
}

/** True for the maximal set (a single rule of type `*`). */
export function isMaximal(perms: readonly PermissionRule[]): boolean {
  return perms.length === 1 && perms[0]!.type === MAXIMAL_TYPE;
}

function matchVerb(rule: PermissionRule, verb: Verb): boolean {
  return rule.verbs === 'ALL' || rule.verbs.length === 0 || rule.verbs.includes(verb);
}

function matchType(rule: PermissionRule, doctype: string): boolean {
  if (rule.type === MAXIMAL_TYPE || rule.type === doctype) return true;
  if (!isWildcard(rule.type)) return false;
  const prefix = rule.type.slice(0, -2);
  return doctype === prefix || doctype.startsWith(prefix + '.');
}

function matchWholeType(rule: PermissionRule): boolean {
  return !rule.values || rule.values.length === 0;
}

/** A rule on the whole doctype (no values) with that verb exists. The maximal set passes. */
export function allowWholeType(perms: readonly PermissionRule[], verb: Verb, doctype: string): boolean {
  return perms.some((r) => matchVerb(r, verb) && matchType(r, doctype) && matchWholeType(r));
}

/** The verb is allowed on the document `id` of `doctype` (whole-type rule, or id listed without selector). */
export function allowId(perms: readonly PermissionRule[], verb: Verb, doctype: string, id: string): boolean {
  return perms.some(
    (r) =>
      matchVerb(r, verb) &&
      matchType(r, doctype) &&
      (matchWholeType(r) || (!r.selector && (r.values ?? []).includes(id))),
  );
}

export interface ManifestPermission {
  type: string;
  verbs?: string[];
  values?: string[];
  selector?: string;
  description?: string;
}

/**
 * Builds the rule set of an app manifest's `permissions` map (keys are only labels).
 * Missing or empty verbs (or `["ALL"]`) mean all verbs. Throws `InvalidScopeError` on a
 * malformed entry.
 */
export function permissionsFromManifest(manifestPermissions: unknown): PermissionSet {
  if (manifestPermissions === null || typeof manifestPermissions !== 'object' || Array.isArray(manifestPermissions)) {
    throw new InvalidScopeError('manifest permissions must be an object');
  }
  const out: PermissionSet = [];
  for (const [key, entry] of Object.entries(manifestPermissions as Record<string, unknown>)) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new InvalidScopeError(`manifest permission ${key} must be an object`);
    }
    const e = entry as Record<string, unknown>;
    if (e.type === MAXIMAL_TYPE) throw new InvalidScopeError('a manifest cannot request `*`');
    const rule: PermissionRule = { type: validateType(e.type), verbs: 'ALL' };
    if (e.verbs !== undefined) {
      if (!Array.isArray(e.verbs)) throw new InvalidScopeError(`manifest permission ${key}: verbs must be an array`);
      rule.verbs = normalizeVerbs(e.verbs);
    }
    if (e.values !== undefined) {
      if (!Array.isArray(e.values)) throw new InvalidScopeError(`manifest permission ${key}: values must be an array`);
      const values = validateValues(e.values);
      if (values.length > 0) rule.values = values;
    }
    if (e.selector !== undefined && e.selector !== '') {
      if (typeof e.selector !== 'string') throw new InvalidScopeError(`manifest permission ${key}: selector must be a string`);
      rule.selector = e.selector;
    }
    out.push(rule);
  }
  return out;
}

const SCOPE_PIECE = /^[^\s:,]+$/;

/**
 * Serializes rules back to a scope string (the inverse of `parseScope`). The maximal set
 * gives `*`. Throws `InvalidScopeError` for a rule that has no string form (a selector
 * without values, values or selectors containing spaces, `:` or `,`).
 */
export function serializeScope(rules: readonly PermissionRule[]): string {
  if (isMaximal(rules)) return MAXIMAL_TYPE;
  if (rules.length === 0) throw new InvalidScopeError('cannot serialize an empty permission set');
  return rules
    .map((r) => {
      const type = validateType(r.type);
      const verbs = r.verbs === 'ALL' ? 'ALL' : normalizeVerbs(r.verbs);
      const values = r.values && r.values.length > 0 ? r.values : undefined;
      const selector = r.selector ? r.selector : undefined;
      if (selector !== undefined && values === undefined) {
        throw new InvalidScopeError(`rule on ${type} has a selector without values`);
      }
      for (const piece of [...(values ?? []), ...(selector !== undefined ? [selector] : [])]) {
        if (!SCOPE_PIECE.test(piece)) throw new InvalidScopeError(`value not representable in a scope: ${piece}`);
      }
      let out = type;
      if (verbs !== 'ALL' || values !== undefined) out += ':' + (verbs === 'ALL' ? 'ALL' : verbs.join(','));
      if (values !== undefined) out += ':' + values.join(',');
      if (selector !== undefined) out += ':' + selector;
      return out;
    })
    .join(' ');
}
