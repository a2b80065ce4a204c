/**
 * Policy-group expressions (docs/kubewarden-compatibility.md#policy-groups): calls of the group's members
 * combined with `!`, `==`, `!=`, `&&`, `||` and parentheses. Kubewarden's policy-server evaluates them with
 * Rhai and its controller validates them with CEL; this is the subset both accept. An expression is parsed
 * once, when the group is loaded, and evaluated lazily for each request.
 */
import { RuntimeError, RuntimeErrorCode } from '../errors.js';

/** How deeply `(` and `!` may nest; deeper expressions are refused so that none can exhaust the stack. */
export const MAX_GROUP_EXPRESSION_NESTING = 100;

/**
 * The syntax tree. Chains of `&&`, of `||` and of `==`/`!=` are kept flat, so that only `(` and `!`, whose
 * nesting is limited, make the tree deeper.
 */
type ExpressionNode =
  | { readonly kind: 'literal'; readonly value: boolean }
  | { readonly kind: 'call'; readonly member: string }
  | { readonly kind: 'not'; readonly operand: ExpressionNode }
  | { readonly kind: 'equality'; readonly first: ExpressionNode; readonly rest: readonly Comparison[] }
  | { readonly kind: 'all'; readonly operands: readonly ExpressionNode[] }
  | { readonly kind: 'any'; readonly operands: readonly ExpressionNode[] };

/** One `== operand` or `!= operand` of a left-associative equality chain. */
interface Comparison {
  readonly operator: '==' | '!=';
  readonly operand: ExpressionNode;
}

const root = Symbol('root');

/** A parsed group expression: immutable, opaque, and valid for the members it was parsed with. */
export interface GroupExpression {
  readonly [root]: ExpressionNode;
}

/**
 * Parses `text` against the group's member names. Throws a `RuntimeError` with code
 * `CASTELLAN_RUNTIME_GROUP_EXPRESSION_INVALID` whose message starts with the 1-based column (counted from the
 * start of the text) and says what was expected there, e.g. `column 7: expected ")" but found end of expression`.
 */
export function parseGroupExpression(text: string, members: readonly string[]): GroupExpression {
  return Object.freeze({ [root]: new ExpressionParser(text, members).parse() });
}

/**
 * The expression's value. `call` runs a member; it is called only when the expression needs the member's
 * value (`&&` and `||` short-circuit; `==` and `!=` need both sides) and at most once per member. Operands
 * are evaluated left to right, one at a time. Rejects with whatever `call` rejects with.
 */
export async function evaluateGroupExpression(
  expression: GroupExpression,
  call: (member: string) => Promise<boolean>,
): Promise<boolean> {
  const verdicts = new Map<string, Promise<boolean>>();
  const callOnce = (member: string): Promise<boolean> => {
    let verdict = verdicts.get(member);
    if (verdict === undefined) {
      verdict = call(member);
      verdicts.set(member, verdict);
    }
    return verdict;
  };
  return evaluate(expression[root], callOnce);
}

async function evaluate(node: ExpressionNode, call: (member: string) => Promise<boolean>): Promise<boolean> {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'call':
      return call(node.member);
    case 'not':
      return !(await evaluate(node.operand, call));
    case 'equality': {
      let value = await evaluate(node.first, call);
      for (const { operator, operand } of node.rest) {
        const right = await evaluate(operand, call);
        value = operator === '==' ? value === right : value !== right;
      }
      return value;
    }
    case 'all':
      for (const operand of node.operands) {
        if (!(await evaluate(operand, call))) return false;
      }
      return true;
    case 'any':
      for (const operand of node.operands) {
        if (await evaluate(operand, call)) return true;
      }
      return false;
  }
}

type TokenKind = 'name' | '(' | ')' | '!' | '==' | '!=' | '&&' | '||' | 'other' | 'end';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** 1-based. */
  readonly column: number;
}

const WHITESPACE = /\s*/y;
/** A member name or keyword, an operator or parenthesis, or any other single character. */
const TOKEN = /([_a-zA-Z][_a-zA-Z0-9]*)|(==|!=|&&|\|\||[()!])|./suy;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let offset = 0;
  for (;;) {
    WHITESPACE.lastIndex = offset;
    WHITESPACE.test(text);
    offset = WHITESPACE.lastIndex;
    TOKEN.lastIndex = offset;
    const match = TOKEN.exec(text);
    if (match === null) return tokens;
    const [tokenText, name, operator] = match;
    const kind: TokenKind = name !== undefined ? 'name' : ((operator as TokenKind | undefined) ?? 'other');
    tokens.push({ kind, text: tokenText, column: offset + 1 });
    offset = TOKEN.lastIndex;
  }
}

const OPERAND = 'a member call, true, false, "!" or "("';
const OPERATOR = 'an operator (==, !=, &&, ||)';

/**
 * Recursive descent, one method per precedence level from low to high: `||`, `&&`, `==`/`!=`, `!`, then
 * operands. Recursion happens only through `(` and `!`, which `#nested` counts.
 */
class ExpressionParser {
  readonly #tokens: readonly Token[];
  readonly #end: Token;
  readonly #members: ReadonlySet<string>;
  #next = 0;
  #nesting = 0;

  constructor(text: string, members: readonly string[]) {
    this.#tokens = tokenize(text);
    this.#end = { kind: 'end', text: '', column: text.length + 1 };
    this.#members = new Set(members);
  }

  parse(): ExpressionNode {
    const node = this.#parseAny();
    const token = this.#peek();
    if (token.kind !== 'end') {
      const hint = token.kind === ')' ? '; it has no matching "("' : '';
      throw unexpected(token, `${OPERATOR} or end of expression`, hint);
    }
    return node;
  }

  #parseAny(): ExpressionNode {
    return this.#parseJoined('||', 'any', () => this.#parseAll());
  }

  #parseAll(): ExpressionNode {
    return this.#parseJoined('&&', 'all', () => this.#parseEquality());
  }

  /** Operands joined by `operator`; a single operand stands for itself. */
  #parseJoined(
    operator: '||' | '&&',
    kind: 'any' | 'all',
    parseOperand: () => ExpressionNode,
  ): ExpressionNode {
    const operands = [parseOperand()];
    while (this.#peek().kind === operator) {
      this.#take();
      operands.push(parseOperand());
    }
    return operands.length === 1 && operands[0]
      ? operands[0]
      : Object.freeze({ kind, operands: Object.freeze(operands) });
  }

  #parseEquality(): ExpressionNode {
    const first = this.#parseUnary();
    const rest: Comparison[] = [];
    for (let operator = this.#peek().kind; operator === '==' || operator === '!=';) {
      this.#take();
      rest.push(Object.freeze({ operator, operand: this.#parseUnary() }));
      operator = this.#peek().kind;
    }
    return rest.length === 0 ? first : Object.freeze({ kind: 'equality', first, rest: Object.freeze(rest) });
  }

  #parseUnary(): ExpressionNode {
    const token = this.#peek();
    if (token.kind !== '!') return this.#parseOperand();
    this.#take();
    return Object.freeze({ kind: 'not', operand: this.#nested(token, () => this.#parseUnary()) });
  }

  #parseOperand(): ExpressionNode {
    const token = this.#take();
    if (token.kind === '(') {
      const inner = this.#nested(token, () => this.#parseAny());
      const close = this.#take();
      if (close.kind !== ')') {
        throw unexpected(close, `${OPERATOR} or ")" closing the "(" at column ${token.column}`);
      }
      return inner;
    }
    if (token.kind !== 'name') throw unexpected(token, OPERAND);
    if (token.text === 'true' || token.text === 'false') {
      return Object.freeze({ kind: 'literal', value: token.text === 'true' });
    }
    if (!this.#members.has(token.text)) {
      const members = this.#members.size === 0 ? 'it has none' : [...this.#members].join(', ');
      throw unexpected(token, `a member of the group (${members})`);
    }
    const open = this.#take();
    if (open.kind !== '(') throw unexpected(open, `"(" to call member "${token.text}"`);
    const close = this.#take();
    if (close.kind !== ')') {
      throw unexpected(close, '")"', close.kind === 'end' ? '' : '; members take no arguments');
    }
    return Object.freeze({ kind: 'call', member: token.text });
  }

  /** Parses a sub-expression one level of `(` or `!` deeper, refusing to go past the limit. */
  #nested(token: Token, parse: () => ExpressionNode): ExpressionNode {
    if (this.#nesting === MAX_GROUP_EXPRESSION_NESTING) {
      throw invalid(
        token.column,
        `expected at most ${MAX_GROUP_EXPRESSION_NESTING} levels of "(" and "!" but found more`,
      );
    }
    this.#nesting += 1;
    const node = parse();
    this.#nesting -= 1;
    return node;
  }

  #peek(): Token {
    return this.#tokens[this.#next] ?? this.#end;
  }

  #take(): Token {
    const token = this.#peek();
    this.#next += 1;
    return token;
  }
}

function unexpected(token: Token, expected: string, hint = ''): RuntimeError {
  const found = token.kind === 'end' ? 'end of expression' : JSON.stringify(token.text);
  return invalid(token.column, `expected ${expected} but found ${found}${hint}`);
}

function invalid(column: number, message: string): RuntimeError {
  return new RuntimeError(RuntimeErrorCode.GroupExpressionInvalid, `column ${column}: ${message}`);
}
