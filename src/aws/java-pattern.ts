/**
 * The models' `pattern` constraints are Java regular expressions, which the
 * service applies with `Matcher.matches()`: the whole value must match.
 * This turns one into an equivalent JavaScript RegExp, or throws for Java
 * syntax that has no faithful JavaScript counterpart, so a regenerated model
 * with such a pattern fails the tests instead of validating wrongly.
 */

/** Java's `\s` without UNICODE_CHARACTER_CLASS; JavaScript's also matches NBSP, U+2028 and other Unicode spaces. */
const JAVA_WHITESPACE = ' \\t\\n\\x0B\\f\\r';

const UNSUPPORTED_ESCAPES = new Set(['A', 'Z', 'z', 'G', 'Q', 'E', 'p', 'P', 'h', 'H', 'v', 'V', 'R', 'X']);

/** What may follow `(?`: non-capturing groups, lookahead, lookbehind and named groups mean the same in both. */
const GROUP_CONSTRUCTS_SHARED_WITH_JAVASCRIPT = new Set([':', '=', '!', '<']);

/**
 * Model patterns whose nested quantifiers backtrack exponentially on a
 * near-miss (`a`×30 followed by `!` takes minutes), mapped to an equivalent
 * unambiguous JavaScript pattern. test/aws-model.test.ts checks each pair
 * agrees on every short string and that every model pattern answers long
 * near-misses quickly, so a regenerated model cannot bring one in unnoticed.
 */
const BACKTRACKING_SAFE_EQUIVALENTS: Readonly<Record<string, string>> = {
  // ScanningRepositoryFilterValue: the optional class overlaps the `+` class, so `[x]?[y]+` splits a run of letters every possible way.
  '^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$': '[a-z0-9*](?:[._\\-/]?[a-z0-9*])*',
};

const compiled = new Map<string, RegExp>();

export function javaPatternToRegExp(pattern: string): RegExp {
  const cached = compiled.get(pattern);
  if (cached) return cached;
  // No `u` flag: Java, like JavaScript's Annex B syntax, reads `[0-9-_]` and `\-` as a literal hyphen, which `u` rejects.
  const regExp = new RegExp(`^(?:${BACKTRACKING_SAFE_EQUIVALENTS[pattern] ?? translate(pattern)})$`);
  compiled.set(pattern, regExp);
  return regExp;
}

function translate(pattern: string): string {
  let output = '';
  let inClass = false;
  let afterQuantifier = false;
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index];
    if (character === '\\') {
      const escaped = pattern[index + 1];
      if (escaped === undefined) throw unsupported(pattern, 'a trailing backslash');
      index++;
      afterQuantifier = false;
      if (UNSUPPORTED_ESCAPES.has(escaped)) throw unsupported(pattern, `\\${escaped}`);
      if (escaped === 's') {
        output += inClass ? JAVA_WHITESPACE : `[${JAVA_WHITESPACE}]`;
      } else if (escaped === 'S') {
        if (inClass) throw unsupported(pattern, '\\S inside a character class');
        output += `[^${JAVA_WHITESPACE}]`;
      } else {
        output += `\\${escaped}`;
      }
      continue;
    }
    if (inClass) {
      if (character === '[' || (character === '&' && pattern[index + 1] === '&')) throw unsupported(pattern, 'a nested or intersected character class');
      if (character === ']') inClass = false;
      output += character;
      continue;
    }
    if (character === '[') {
      inClass = true;
      if (pattern[index + 1] === ']') throw unsupported(pattern, 'a class starting with ]');
    } else if (character === '(' && pattern[index + 1] === '?' && !GROUP_CONSTRUCTS_SHARED_WITH_JAVASCRIPT.has(pattern[index + 2] ?? '')) {
      throw unsupported(pattern, 'a group construct JavaScript lacks (flags, atomic groups)');
    } else if (character === '+' && afterQuantifier) {
      throw unsupported(pattern, 'a possessive quantifier');
    }
    afterQuantifier = character === '*' || character === '+' || character === '?' || character === '}';
    output += character;
  }
  if (inClass) throw unsupported(pattern, 'an unclosed character class');
  return output;
}

function unsupported(pattern: string, construct: string): Error {
  return new Error(`Java pattern ${JSON.stringify(pattern)} uses ${construct}, which has no faithful JavaScript translation`);
}
