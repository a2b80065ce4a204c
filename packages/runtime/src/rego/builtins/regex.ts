/**
 * `regex.split`, `regex.find_n`, `regex.template_match` as burrego implements them
 * (`crates/burrego/src/builtins/regex.rs`, Rust's regex crate).
 *
 * Two burrego behaviours differ from OPA and are kept: `regex.split` returns one string (the pieces are
 * collected into a `String`, i.e. the input with every match removed), and `regex.template_match` is an
 * unanchored search. Patterns use Rust syntax and semantics, so they are translated (see `compileRustRegex`).
 */
import { messageOf } from '@castellan/proto';
import { asI64, expectArity, expectString, RegoBuiltinError } from './builtin.js';

export function regexSplit(...args: unknown[]): string {
  const name = 'regex.split';
  expectArity(name, args, 2, 'Wrong number of arguments given');
  const pattern = expectString(name, args[0], '1st parameter is not a string');
  const text = expectString(name, args[1], '2nd parameter is not a string');
  let out = '';
  let copied = 0;
  for (const match of findIter(compilePattern(name, pattern), text)) {
    out += text.slice(copied, match.start);
    copied = match.end;
  }
  return out + text.slice(copied);
}

export function regexFindN(...args: unknown[]): string[] {
  const name = 'regex.find_n';
  expectArity(name, args, 3, 'Wrong number of arguments given to ');
  const pattern = expectString(name, args[0], '1st parameter is not a string');
  const text = expectString(name, args[1], '2nd parameter is not a string');
  const count = asI64(args[2]);
  if (count === undefined) throw new RegoBuiltinError(name, '3rd parameter is not a number');
  const matches: string[] = [];
  // -1 means all matches; other negative counts become huge `usize`s in burrego, which also means all.
  const limit = count < 0n ? Number.POSITIVE_INFINITY : Number(count);
  for (const match of findIter(compilePattern(name, pattern), text)) {
    if (matches.length >= limit) break;
    matches.push(match.text);
  }
  return matches;
}

export function regexTemplateMatch(...args: unknown[]): boolean {
  const name = 'regex.template_match';
  expectArity(name, args, 4, 'Wrong number of arguments given');
  const template = expectString(name, args[0], '1st parameter is not a string');
  const text = expectString(name, args[1], '2nd parameter is not a string');
  const start = delimiter(name, args[2], '3rd');
  const end = delimiter(name, args[3], '4th');
  let regex: RegExp;
  try {
    regex = compileRustRegex(regexFromTemplate(template, start, end));
  } catch (error) {
    // burrego names this error after the whole module, not the builtin.
    throw new RegoBuiltinError(
      'regex',
      `tried to initialize an invalid regular expression: ${messageOf(error)}`,
    );
  }
  return search(regex, text, 0) !== undefined;
}

// burrego checks the byte length, so a delimiter must be a single ASCII character.
function delimiter(name: string, value: unknown, position: string): string {
  const text = expectString(name, value, `${position} parameter is not a string`);
  if (Buffer.byteLength(text, 'utf8') !== 1) {
    throw new RegoBuiltinError(name, `${position} parameter has to be exactly one character long`);
  }
  return text;
}

/**
 * Text between the delimiters is a regex, the rest is escaped literally. Delimiters nest: only the
 * outermost pair switches modes; an unmatched closing delimiter just drops the count below zero.
 */
function regexFromTemplate(template: string, start: string, end: string): string {
  let out = '';
  let current = '';
  let inRegex = false;
  let open = 0;
  const flush = (): void => {
    out += inRegex ? current : escapeRust(current);
    current = '';
  };
  for (const char of template) {
    if (char === start) {
      open++;
      if (open === 1) {
        flush();
        inRegex = true;
      }
    } else if (char === end) {
      open--;
      if (open === 0) {
        flush();
        inRegex = false;
      }
    } else {
      current += char;
    }
  }
  flush();
  return out;
}

/** `regex::escape`: a backslash before each of Rust's meta characters. */
function escapeRust(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$#&\-~]/g, '\\$&');
}

function compilePattern(name: string, pattern: string): RegExp {
  try {
    return compileRustRegex(pattern);
  } catch (error) {
    const detail = `cannot build regex from the given pattern string '${pattern}': ${messageOf(error)}`;
    throw new RegoBuiltinError(name, detail);
  }
}

interface Match {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * Rust's `find_iter`: each search resumes where the last match ended, and an empty match at that very
 * position is skipped by searching again one character further (JS would report it).
 */
function* findIter(regex: RegExp, text: string): Generator<Match> {
  let at = 0;
  let lastEnd = -1;
  for (;;) {
    let match = search(regex, text, at);
    if (match !== undefined && match.start === match.end && match.end === lastEnd) {
      const next = at + ((text.codePointAt(at) ?? 0) > 0xffff ? 2 : 1);
      match = next <= text.length ? search(regex, text, next) : undefined;
    }
    if (match === undefined) return;
    yield match;
    at = match.end;
    lastEnd = match.end;
  }
}

function search(regex: RegExp, text: string, from: number): Match | undefined {
  regex.lastIndex = from;
  const found = regex.exec(text);
  return found === null
    ? undefined
    : { start: found.index, end: found.index + found[0].length, text: found[0] };
}

// Rust's `\w` is Unicode-aware (UTS #18); JS's is ASCII-only even with the `u` flag.
const WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
const ANY = '[\\s\\S]';

const CLASS_ESCAPES: Readonly<Record<string, string>> = {
  d: '\\p{Nd}',
  D: '\\P{Nd}',
  s: '\\p{White_Space}',
  S: '\\P{White_Space}',
  w: WORD,
};

const ASSERTIONS: Readonly<Record<string, string>> = {
  A: `(?<!${ANY})`,
  z: `(?!${ANY})`,
  b: `(?:(?<=[${WORD}])(?![${WORD}])|(?<![${WORD}])(?=[${WORD}]))`,
  B: `(?:(?<=[${WORD}])(?=[${WORD}])|(?<![${WORD}])(?![${WORD}]))`,
};

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/**
 * Translates a Rust regex into an equivalent JS one: Unicode `\d \s \w \b`, `.` and `^ $` that only
 * know `\n`, `\A \z`, `(?P<name>…)`, POSIX classes, `\x{…}`, and Rust's licence to escape any punctuation.
 * Constructs Rust rejects (look-around, backreferences) are rejected too. Rust features JS cannot express
 * simply — flags other than at the start, `(?x)`, `(?U)`, nested classes and class set operations, `\W`
 * inside a class — raise an error instead of being approximated.
 */
export function compileRustRegex(pattern: string): RegExp {
  const leading = /^\(\?([a-zA-Z]+)\)/u.exec(pattern);
  const flags = leading?.[1] ?? '';
  if (/[^imsu]/u.test(flags)) throw new Error(`unsupported flags (?${flags})`);
  const chars = Array.from(pattern.slice(leading?.[0].length ?? 0));
  const translator = new Translator(chars, flags.includes('m'), flags.includes('s'));
  return new RegExp(translator.translate(), flags.includes('i') ? 'giu' : 'gu');
}

class Translator {
  private at = 0;
  private out = '';

  constructor(
    private readonly chars: readonly string[],
    private readonly multiLine: boolean,
    private readonly dotAll: boolean,
  ) {}

  translate(): string {
    while (this.at < this.chars.length) {
      const char = this.take();
      if (char === '\\') this.out += this.escape(false);
      else if (char === '[') this.charClass();
      else if (char === '(') this.group();
      else if (char === '.') this.out += this.dotAll ? ANY : '[^\\n]';
      else if (char === '^') this.out += this.multiLine ? `(?:(?<!${ANY})|(?<=\\n))` : '^';
      else if (char === '$') this.out += this.multiLine ? `(?:(?!${ANY})|(?=\\n))` : '$';
      else if (char === '{') this.out += this.repetition();
      // Rust takes a stray `]` or `}` literally; JS's `u` mode rejects them unescaped.
      else if (char === ']' || char === '}') this.out += `\\${char}`;
      else this.out += char;
    }
    return this.out;
  }

  private take(): string {
    const char = this.chars[this.at++];
    if (char === undefined) throw new Error('unexpected end of pattern');
    return char;
  }

  private peek(offset = 0): string | undefined {
    return this.chars[this.at + offset];
  }

  private repetition(): string {
    let body = '';
    for (let next = this.take(); next !== '}'; next = this.take()) body += next;
    return `{${body}}`;
  }

  private group(): void {
    if (this.peek() !== '?') {
      this.out += '(';
      return;
    }
    const head = this.chars.slice(this.at, this.at + 3).join('');
    if (head.startsWith('?:')) {
      this.at += 2;
      this.out += '(?:';
    } else if (head === '?P<') {
      this.at += 3;
      this.out += '(?<';
    } else if (head.startsWith('?<') && head !== '?<=' && head !== '?<!') {
      this.at += 2;
      this.out += '(?<';
    } else if (head.startsWith('?=') || head.startsWith('?!') || head.startsWith('?<')) {
      throw new Error('look-around, including look-ahead and look-behind, is not supported');
    } else {
      throw new Error('inline flags are only supported at the start of the pattern');
    }
  }

  private charClass(): void {
    this.out += '[';
    if (this.peek() === '^') this.out += this.take();
    // Rust reads a `]` right after the opening bracket as a literal.
    if (this.peek() === ']') {
      this.take();
      this.out += '\\]';
    }
    for (;;) {
      const char = this.take();
      if (char === ']') break;
      if (char === '\\') this.out += this.escape(true);
      else if (char === '[') this.out += this.posixClass();
      else if ('&-~'.includes(char) && this.peek() === char)
        throw new Error('class set operations are not supported');
      else this.out += char;
    }
    this.out += ']';
  }

  private posixClass(): string {
    const rest = this.chars.slice(this.at).join('');
    const posix = /^:([a-z]+):\]/u.exec(rest);
    const members = posix?.[1] === undefined ? undefined : POSIX_CLASSES[posix[1]];
    if (posix === null || members === undefined)
      throw new Error('nested character classes are not supported');
    this.at += Array.from(posix[0]).length;
    return members;
  }

  private escape(inClass: boolean): string {
    const char = this.take();
    const classEscape = CLASS_ESCAPES[char];
    if (classEscape !== undefined) return inClass || char !== 'w' ? classEscape : `[${classEscape}]`;
    if (char === 'W') {
      if (inClass) throw new Error('\\W inside a character class is not supported');
      return `[^${WORD}]`;
    }
    const assertion = ASSERTIONS[char];
    if (assertion !== undefined && this.peek() !== '{') {
      if (inClass) throw new Error(`\\${char} is not allowed inside a character class`);
      return assertion;
    }
    if (char === 'p' || char === 'P') return this.property(char);
    if (char === 'x' || char === 'u' || char === 'U') return this.codePoint(char);
    if ('ntrfv'.includes(char)) return `\\${char}`;
    if (char === 'a') return '\\x07';
    if (/^[0-9]$/u.test(char)) throw new Error('backreferences are not supported');
    // Rust lets any ASCII punctuation be escaped; JS's `u` mode only allows its own syntax characters.
    if (/^[!-/:-@[-`{-~]$/u.test(char) && char !== '<' && char !== '>') {
      return `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`;
    }
    throw new Error(`unrecognized escape sequence \\${char}`);
  }

  // `\pL`, `\p{Greek}`: JS needs braces, and scripts spelled out as `Script=…`.
  private property(char: string): string {
    let name = this.take();
    if (name === '{') {
      name = '';
      for (let next = this.take(); next !== '}'; next = this.take()) name += next;
    }
    const general = `\\${char}{${name}}`;
    return isValidJs(general) ? general : `\\${char}{Script=${name}}`;
  }

  // `\x7F`, `\x{10FFFF}`, `\u007F`, `\u{7F}`, `\U0000007F`, `\U{7F}`.
  private codePoint(char: string): string {
    let hex = '';
    if (this.peek() === '{') {
      this.take();
      for (let next = this.take(); next !== '}'; next = this.take()) hex += next;
    } else {
      const digits = char === 'x' ? 2 : char === 'u' ? 4 : 8;
      for (let i = 0; i < digits; i++) hex += this.take();
    }
    if (!/^[0-9a-fA-F]+$/u.test(hex)) throw new Error(`invalid hexadecimal escape \\${char}${hex}`);
    return `\\u{${hex}}`;
  }
}

function isValidJs(source: string): boolean {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}
