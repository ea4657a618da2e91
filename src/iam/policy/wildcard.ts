/**
 * Wildcard (`*`, `?`) matching and policy-variable templates.
 *
 * - Actions: `*` / `?` anywhere, case-insensitive ("IAM JSON policy elements: Action").
 * - Resources and ARN condition operators: case-sensitive; wildcards match within one of the six
 *   colon-delimited ARN segments ("You can use wildcard characters (* and ?) within any ARN
 *   segment (the parts separated by colons)" — IAM JSON policy elements: Resource; "Each of the six
 *   colon-delimited components of the ARN is checked separately" — Condition operators, ARN). The
 *   sixth segment (the resource id) may itself contain colons, so wildcards there span them.
 * - StringLike / StringNotLike: case-sensitive, wildcards anywhere.
 *
 * Patterns are compiled to RegExp once at parse time; a pattern that contains policy variables is
 * rendered per evaluation and its RegExp cached (bounded) by rendered source.
 */

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

export function escapeRegex(text: string): string {
  return text.replace(REGEX_SPECIAL, '\\$&');
}

/** Regex source for a glob fragment: `*` → `star`, `?` → `one`, everything else literal. */
function globFragment(text: string, star: string, one: string): string {
  let out = '';
  let literal = '';
  for (const ch of text) {
    if (ch === '*' || ch === '?') {
      if (literal) out += escapeRegex(literal);
      literal = '';
      out += ch === '*' ? star : one;
    } else {
      literal += ch;
    }
  }
  if (literal) out += escapeRegex(literal);
  return out;
}

/** Regex source (no anchors) for a plain glob: wildcards match any characters. */
export function globSource(pattern: string): string {
  return globFragment(pattern, '.*', '.');
}

export function hasWildcard(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

// ---------------------------------------------------------------------------------------------
// Templates: text made of literal glob text, policy variables and escaped special characters.
// ---------------------------------------------------------------------------------------------

/** One piece of a policy value: glob text, a variable, or a literal character from `${*}`/`${?}`/`${$}`. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'var'; readonly key: string; readonly keyLower: string; readonly fallback: string | undefined }
  | { readonly kind: 'char'; readonly text: string };

export interface Template {
  readonly raw: string;
  readonly parts: readonly TemplatePart[];
  /** True when the template contains at least one variable that must be resolved per request. */
  readonly dynamic: boolean;
}

const VARIABLE_BODY = /^\s*([A-Za-z0-9][A-Za-z0-9_.:/+=,@-]*)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$/;

/**
 * Parse `${…}` policy variables ("IAM policy elements: Variables and tags"): `${aws:username}`,
 * defaults `${aws:username, 'anonymous'}` (a doubled `''` is a literal quote), and the special
 * characters `${*}`, `${?}`, `${$}`. Variables exist only in policy language version 2012-10-17
 * ("If you don't include the Version element … variables like ${aws:username} are treated as
 * literal strings"), so callers pass `variables: false` for 2008-10-17. Text that is not a
 * well-formed variable stays literal.
 */
export function parseTemplate(raw: string, variables: boolean): Template {
  if (!variables || !raw.includes('${')) return { raw, parts: [{ kind: 'text', text: raw }], dynamic: false };
  const parts: TemplatePart[] = [];
  let text = '';
  let dynamic = false;
  let i = 0;
  while (i < raw.length) {
    const start = raw.indexOf('${', i);
    if (start < 0) {
      text += raw.slice(i);
      break;
    }
    text += raw.slice(i, start);
    const end = raw.indexOf('}', start + 2);
    if (end < 0) {
      text += raw.slice(start);
      break;
    }
    const body = raw.slice(start + 2, end);
    if (body === '*' || body === '?' || body === '$') {
      if (text) parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'char', text: body });
    } else {
      const m = VARIABLE_BODY.exec(body);
      if (!m || m[1] === undefined) {
        text += raw.slice(start, end + 1);
      } else {
        if (text) parts.push({ kind: 'text', text });
        text = '';
        const key = m[1];
        parts.push({ kind: 'var', key, keyLower: key.toLowerCase(), fallback: m[2] === undefined ? undefined : m[2].replace(/''/g, "'") });
        dynamic = true;
      }
    }
    i = end + 1;
  }
  if (text) parts.push({ kind: 'text', text });
  return { raw, parts, dynamic };
}

/**
 * Resolves a variable to its single value, or undefined when it cannot be resolved (absent or
 * multi-valued: "you cannot use multivalued context keys as policy variables").
 */
export interface VariableResolver {
  /** `key` is the variable name as written (a fast path for an identically spelled context key). */
  resolve(keyLower: string, key?: string): string | undefined;
}

/** A resolver for contexts without variables. */
export const NO_VARIABLES: VariableResolver = { resolve: () => undefined };

/** Plain text of a template (for equality operators), or undefined if a variable is unresolved. */
export function renderText(t: Template, resolve: VariableResolver): string | undefined {
  if (!t.dynamic) return t.raw.includes('${') ? renderStatic(t) : t.raw;
  let out = '';
  for (const p of t.parts) {
    if (p.kind === 'var') {
      const v = resolve.resolve(p.keyLower, p.key) ?? p.fallback;
      if (v === undefined) return undefined;
      out += v;
    } else {
      out += p.text;
    }
  }
  return out;
}

function renderStatic(t: Template): string {
  let out = '';
  for (const p of t.parts) if (p.kind !== 'var') out += p.text;
  return out;
}

/** How glob text is turned into a regex. */
export type GlobMode = 'plain' | 'arn';

/**
 * Regex source for a template. Variable values and `${*}`-style characters are literal; `*`/`?`
 * in the policy text are wildcards. In `arn` mode wildcards do not cross the first five colons.
 */
export function templateSource(t: Template, mode: GlobMode, resolve: VariableResolver | undefined): string | undefined {
  if (mode === 'plain') {
    let out = '';
    for (const p of t.parts) {
      if (p.kind === 'text') out += globSource(p.text);
      else if (p.kind === 'char') out += escapeRegex(p.text);
      else {
        const v = resolve?.resolve(p.keyLower, p.key) ?? p.fallback;
        if (v === undefined) return undefined;
        out += escapeRegex(v);
      }
    }
    return out;
  }
  // ARN mode: count colons in policy text (and in substituted values) to know which segment we are in.
  let out = '';
  let colons = 0;
  for (const p of t.parts) {
    let chunk: string;
    let literal: boolean;
    if (p.kind === 'text') {
      chunk = p.text;
      literal = false;
    } else if (p.kind === 'char') {
      chunk = p.text;
      literal = true;
    } else {
      const v = resolve?.resolve(p.keyLower, p.key) ?? p.fallback;
      if (v === undefined) return undefined;
      chunk = v;
      literal = true;
    }
    for (const ch of chunk) {
      if (ch === ':') {
        colons++;
        out += ':';
      } else if (!literal && (ch === '*' || ch === '?')) {
        const inResourceSegment = colons >= 5;
        if (ch === '*') out += inResourceSegment ? '.*' : '[^:]*';
        else out += inResourceSegment ? '.' : '[^:]';
      } else {
        out += escapeRegex(ch);
      }
    }
  }
  // A pattern with fewer than six segments ending in `*` (e.g. `arn:aws:ecr:*`) lets that final
  // wildcard absorb the remaining segments, as IAM does for such prefixes.
  if (colons < 5 && out.endsWith('[^:]*')) out = out.slice(0, -'[^:]*'.length) + '.*';
  return out;
}

/** Bounded cache for per-request compiled patterns. */
const dynamicCache = new Map<string, RegExp>();
const DYNAMIC_CACHE_LIMIT = 2048;

export function cachedRegex(source: string, flags: string): RegExp {
  const key = flags + '\u0000' + source;
  let re = dynamicCache.get(key);
  if (!re) {
    if (dynamicCache.size >= DYNAMIC_CACHE_LIMIT) dynamicCache.clear();
    re = new RegExp('^(?:' + source + ')$', flags);
    dynamicCache.set(key, re);
  }
  return re;
}

/** A set of (possibly dynamic) glob templates matched as one alternation. */
export class PatternSet {
  /** Combined regex of all static patterns (undefined if none). */
  private readonly staticRe: RegExp | undefined;
  /** Exact (wildcard-free, variable-free) values, for a fast Set lookup. */
  private readonly exact: ReadonlySet<string> | undefined;
  private readonly dynamic: readonly Template[];
  readonly matchAll: boolean;

  constructor(
    templates: readonly Template[],
    private readonly mode: GlobMode,
    private readonly ignoreCase: boolean,
  ) {
    const exact = new Set<string>();
    const sources: string[] = [];
    const dynamic: Template[] = [];
    let matchAll = false;
    for (const t of templates) {
      if (t.dynamic) {
        dynamic.push(t);
        continue;
      }
      if (t.raw === '*') matchAll = true;
      const onlyText = t.parts.every((p) => p.kind !== 'text' || !hasWildcard(p.text));
      if (onlyText) {
        const text = t.parts.map((p) => p.kind === 'var' ? '' : p.text).join('');
        exact.add(ignoreCase ? text.toLowerCase() : text);
      } else {
        const src = templateSource(t, mode, undefined);
        if (src !== undefined) sources.push(src);
      }
    }
    this.matchAll = matchAll;
    this.exact = exact.size ? exact : undefined;
    this.staticRe = sources.length ? new RegExp('^(?:' + sources.join('|') + ')$', ignoreCase ? 'is' : 's') : undefined;
    this.dynamic = dynamic;
  }

  /**
   * Whether `value` matches any pattern. `valueLower` is `value` lower-cased (only used when
   * ignoring case). Returns 'invalid' when nothing matched and some pattern had an unresolvable
   * variable ("If AWS cannot resolve a variable this might cause the entire statement to be invalid").
   */
  test(value: string, valueLower: string, resolve: VariableResolver): boolean | 'invalid' {
    if (this.matchAll) return true;
    if (this.exact?.has(this.ignoreCase ? valueLower : value)) return true;
    if (this.staticRe?.test(value)) return true;
    let invalid = false;
    for (const t of this.dynamic) {
      const src = templateSource(t, this.mode, resolve);
      if (src === undefined) {
        invalid = true;
        continue;
      }
      if (cachedRegex(src, this.ignoreCase ? 'is' : 's').test(value)) return true;
    }
    return invalid ? 'invalid' : false;
  }
}
