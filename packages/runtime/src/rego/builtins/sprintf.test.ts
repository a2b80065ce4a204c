import { describe, expect, it } from 'vitest';
import { RegoBuiltinError } from './builtin.js';
import { sprintf } from './sprintf.js';

/** The detail burrego reports when gtmpl fails, so error tests state the whole message. */
function renderError(format: string, args: string, reason: string): string {
  return `Cannot render go template '${format}' with args ${args}: ${reason}`;
}

/** printf errors reach burrego wrapped in gtmpl's error enums, printed with `{:?}`. */
function printError(format: string, args: string, reason: string): string {
  return renderError(format, args, `ExecError(FuncError(Other(${reason})))`);
}

function detailOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof RegoBuiltinError) return error.detail;
    throw error;
  }
  throw new Error('expected a RegoBuiltinError');
}

describe('sprintf %v', () => {
  it.each<[string, unknown[], string]>([
    ['hello %v %v %v', ['world', 42, ['this', 'is', 'a', 'list']], 'hello world 42 [this is a list]'],
    ['%v', ['text'], 'text'],
    ['%v', [0], '0'],
    ['%v', [9007199254740991], '9007199254740991'],
    ['%v %v', [true, false], 'true false'],
    ['%v', [[1, 'a', true, null]], '[1 a true nil]'],
    ['%v', [[]], '[]'],
    ['%v', [{ b: 1, a: 'x' }], 'map[a:x b:1]'],
    ['%v', [{}], 'map[]'],
    // serde_json orders keys by their bytes; JS objects would put "9" and "10" first.
    ['%v', [{ b: 1, a: 2, 10: 3, 9: 4 }], 'map[10:3 9:4 a:2 b:1]'],
    // Values nested in a container print with gtmpl_value's derived Debug.
    ['%v', [[[1, 'a']]], '[[Number(Number { n: U(1) }), String("a")]]'],
    ['%v', [[[-1, null, true]]], '[[Number(Number { n: I(-1) }), Nil, Bool(true)]]'],
    ['%v', [[{ k: 'v\n' }]], '[{"k": String("v\\n")}]'],
    ['%v', [{ a: [1], b: { c: 'd' } }], 'map[a:[Number(Number { n: U(1) })] b:{"c": String("d")}]'],
    // An integral double stands for the integer literal burrego receives.
    ['%v', [2.0], '2'],
  ])('sprintf(%j, %j) = %j', (format, args, expected) => {
    expect(sprintf(format, args)).toBe(expected);
  });

  it.each<[unknown, string, string]>([
    [-7, 'Number(Number { n: I(-7) })', 'unable to format -7 as v'],
    [null, 'Nil', 'unable to format nil as v'],
  ])('rejects %j, which gtmpl cannot print with %%v', (value, debug, reason) => {
    expect(detailOf(() => sprintf('%v', [value]))).toBe(
      printError('{{ printf "%v" (index . 0)}}', `[${debug}]`, reason),
    );
  });
});

describe('sprintf verbs by type', () => {
  it.each<[string, unknown[], string]>([
    ['%d', [42], '42'],
    ['%d', [-7], '-7'],
    ['%s', ['text'], 'text'],
    ['%t', [true], 'true'],
    ['%b', [5], '101'],
    ['%o', [8], '10'],
    ['%x', [255], 'ff'],
    ['%X', [255], 'FF'],
    // Rust prints negative numbers in these bases as 64-bit two's complement.
    ['%x', [-1], 'ffffffffffffffff'],
    ['%b', [-2], '1'.repeat(63) + '0'],
    ['%c', [65], 'A'],
    ['%U', [65], 'U+41'],
    ['%q', [65], "'A'"],
    ['%q', [10], "'\\n'"],
    ['%q', [10000], "'\\u2710'"],
    // Strings: %q escapes with Rust's escape_default and adds no quotes; %x does not zero-pad bytes.
    ['%q', ['a"b\n\'é'], 'a\\"b\\n\\\'\\u{e9}'],
    ['%x', ['foobar2000'], '666f6f62617232303030'],
    ['%X', ['foobar2000'], '666F6F62617232303030'],
    ['%x', ['\n\u00e9'], 'ac3a9'],
  ])('sprintf(%j, %j) = %j', (format, args, expected) => {
    expect(sprintf(format, args)).toBe(expected);
  });

  it.each<[string, unknown, string, string]>([
    ['%s', 42, 'Number(Number { n: U(42) })', 'unable to format 42 as s'],
    ['%d', 'x', 'String("x")', 'unable to format x as d'],
    ['%s', true, 'Bool(true)', 'unable to format true as s'],
    ['%d', [1], 'Array([Number(Number { n: U(1) })])', 'unable to format [Number(Number { n: U(1) })] as d'],
    ['%f', 3, 'Number(Number { n: U(3) })', 'unable to format 3 as f'],
    ['%T', 'x', 'String("x")', 'unable to format x as T'],
    ['%c', -1, 'Number(Number { n: I(-1) })', 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF is not a valid char'],
  ])('%s of %j is an error', (format, value, debug, reason) => {
    expect(detailOf(() => sprintf(format, [value]))).toBe(
      printError(`{{ printf "${format}" (index . 0)}}`, `[${debug}]`, reason),
    );
  });
});

describe('sprintf width, precision and flags', () => {
  it.each<[string, unknown[], string]>([
    ['[%5d]', [42], '[   42]'],
    // gtmpl forwards `0` and `-` to Rust only together with `+` or `#`.
    ['[%05d]', [42], '[   42]'],
    ['[%-5d]', [42], '[   42]'],
    ['[%+05d]', [42], '[+0042]'],
    ['[%+-5d]', [42], '[+42  ]'],
    ['[%+d]', [5], '[+5]'],
    ['[%+05d]', [-42], '[-0042]'],
    ['[%#x]', [255], '[0xff]'],
    ['[%#08x]', [255], '[0x0000ff]'],
    ['[%#o]', [8], '[0o10]'],
    ['[%+0b]', [5], '[+101]'],
    // Everything else pads on the right, like Rust's `pad`, whatever the flags.
    ['[%5s]', ['ab'], '[ab   ]'],
    ['[%-5s]', ['ab'], '[ab   ]'],
    ['[%05s]', ['ab'], '[ab   ]'],
    ['[%5s]', ['é'], '[é    ]'],
    ['[%.2s]', ['abcdef'], '[ab]'],
    ['[%5.1s]', ['abc'], '[a    ]'],
    ['[%.6s]', ['foobar2000'], '[foobar]'],
    ['[%6t]', [true], '[true  ]'],
    ['[%8v]', [['a', 'b']], '[[a b]   ]'],
    ['[%.3v]', [[1, 2, 3]], '[[1 ]'],
    ['[%+-#10c]', [10000], '[✐         ]'],
    ['[%+-#10q]', [10000], "['\\u2710'  ]"],
    // Precision never applies to integers.
    ['[%.1d]', [12345], '[12345]'],
    // `*` takes the width from the arguments; a negative width only sets `-`.
    ['[%*d]', [5, 42], '[   42]'],
    ['[%*s]', [-4, 'a'], '[a   ]'],
    ['[%.*s]', [2, 'abc'], '[ab]'],
    // A dot at the very end is not read as a precision.
    ['[%5.s]', ['abc'], '[abc  ]'],
  ])('sprintf(%j, %j) = %j', (format, args, expected) => {
    expect(sprintf(format, args)).toBe(expected);
  });
});

describe('sprintf argument selection', () => {
  it.each<[string, unknown[], string]>([
    ['%[2]v %[1]v', ['a', 'b'], 'b a'],
    ['%[1]v %v', ['foo', 'bar', 2000], 'foo bar'],
    ['%[2]v %v%[1]v %v%[1]v', ['!', 'wtf', 'golang'], 'wtf golang! wtf!'],
    // Extra arguments are ignored, without Go's %!(EXTRA …).
    ['%v', ['a', 'b'], 'a'],
    ['no verbs', ['a'], 'no verbs'],
    // `%%` is copied through as is.
    ['100%%', [], '100%%'],
    ['%d%%', [5], '5%%'],
    // A directive runs to the next verb letter: "% o" here, octal of 8.
    ['50% off', [8], '5010ff'],
  ])('sprintf(%j, %j) = %j', (format, args, expected) => {
    expect(sprintf(format, args)).toBe(expected);
  });

  it.each<[string, unknown[], string, string]>([
    ['%v %v', ['a'], '{{ printf "%v %v" (index . 0)}}', 'unable to process verb: '],
    ['%v', [], '{{ printf "%v" }}', 'unable to process verb: '],
    ['50% off', [], '{{ printf "50% off" }}', 'unable to process verb:  '],
    ['%[3]v', ['a'], '{{ printf "%[3]v" (index . 0)}}', 'unable to process verb: [3]'],
    ['%[0]v', ['a'], '{{ printf "%[0]v" (index . 0)}}', 'unable to process verb: [0]'],
    [
      '%[a]v',
      ['a'],
      '{{ printf "%[a]v" (index . 0)}}',
      'unable to parse index: invalid digit found in string',
    ],
    // The directive ends at the first verb letter, here the `x` inside the brackets.
    ['%[x]v', ['a'], '{{ printf "%[x]v" (index . 0)}}', 'missing ] in ['],
    ['%[1v', ['a'], '{{ printf "%[1v" (index . 0)}}', 'missing ] in [1'],
    ['%[1]5v', ['a'], '{{ printf "%[1]5v" (index . 0)}}', 'width after index (e.g. %[3]2d)'],
    ['100%', [], '{{ printf "100%" }}', 'unable to terminate format arg: %'],
  ])('sprintf(%j, %j) fails', (format, args, template, reason) => {
    const debugArgs = args.length === 0 ? '[]' : '[String("a")]';
    expect(detailOf(() => sprintf(format, args))).toBe(printError(template, debugArgs, reason));
  });
});

describe('sprintf format string inside the template literal', () => {
  it.each<[string, string]>([
    ['a\\nb', 'a\nb'],
    ['tab\\there', 'tab\there'],
    ['quote \\"x\\"', 'quote "x"'],
    ['back\\\\slash', 'back\\slash'],
    ['e\\u00e9', 'eé'],
    ['smile \\U0001F600', 'smile 😀'],
    ['\\x41', 'A'],
  ])('unquotes %j to %j', (format, expected) => {
    expect(sprintf(format, [])).toBe(expected);
  });

  it.each<[string, string]>([
    ['uses tag "latest"', 'unexpected "\\"" in format string: uses tag "latest"'],
    ['two\nlines', 'unterminated quoted string'],
    ['ends with \\', 'unterminated quoted string'],
    // gtmpl's lexer leaves the escape flag set after `\\`, so the closing quote counts as escaped.
    ['ends with \\\\', 'unterminated quoted string'],
    ['digit \\d', 'unable to unquote'],
    // `\u`/`\x` keep reading fixed-size chunks while enough bytes remain.
    ['\\u00e9 is fine', 'unable to unquote'],
    ['\\x41 is A', 'unable to unquote'],
    ['\\U0001F600 is a smile', 'unable to unquote'],
    ['\\ud800', 'unable to unquote'],
    ['\\x4', 'unable to unquote: escape sequence never terminates'],
  ])('rejects %j', (format, reason) => {
    expect(detailOf(() => sprintf(format, []))).toBe(renderError(`{{ printf "${format}" }}`, '[]', reason));
  });
});

describe('sprintf argument errors', () => {
  it('reports non-integer numbers, on which burrego panics', () => {
    expect(detailOf(() => sprintf('%v', ['ok', [1.5]]))).toBe('called `Option::unwrap()` on a `None` value');
    expect(detailOf(() => sprintf('%v', [2 ** 63]))).toBe('called `Option::unwrap()` on a `None` value');
  });

  it('checks its parameters with burrego wording', () => {
    expect(detailOf(() => sprintf('%v'))).toBe('Wrong number of arguments given');
    expect(detailOf(() => sprintf(1, []))).toBe('1st parameter is not a string');
    expect(detailOf(() => sprintf('%v', 'x'))).toBe('2nd parameter is not an array');
  });

  it('renders the error the way burrego displays BuiltinError', () => {
    expect(() => sprintf('%v', [])).toThrow(
      'Builtin error ["sprintf"]: "Cannot render go template \'{{ printf \\"%v\\" }}\' with args []: ExecError(FuncError(Other(unable to process verb: )))"',
    );
  });
});
