// `Upstash-Retry-Delay` expressions (api.md §14): milliseconds as arithmetic over `retried`,
// parsed by this small recursive-descent parser into a tree and evaluated by walking it — never
// by eval or Function. Grammar (usual precedence, left-associative):
//   expr := term (("+" | "-") term)*      term := unary (("*" | "/") unary)*
//   unary := "-" unary | "+" unary | atom  atom := number | "retried" | name "(" expr ("," expr)* ")" | "(" expr ")"

/** Longest expression accepted, in characters. */
export const MAX_RETRY_DELAY_LENGTH = 1000;
/** Deepest nesting accepted (parentheses, calls and unary signs each add a level). */
export const MAX_RETRY_DELAY_DEPTH = 32;
/** Longest delay an expression can produce, in ms (one week); larger results (and NaN) are capped to it. */
export const MAX_RETRY_DELAY_MS = 7 * 86_400_000;

export type RetryDelayNode =
  | { op: 'num'; value: number }
  | { op: 'retried' }
  | { op: 'neg'; arg: RetryDelayNode }
  | { op: '+' | '-' | '*' | '/'; left: RetryDelayNode; right: RetryDelayNode }
  | { op: 'call'; fn: FunctionName; args: RetryDelayNode[] };

const FUNCTIONS = {
  pow: { min: 2, max: 2, f: (a: number[]) => Math.pow(a[0]!, a[1]!) },
  exp: { min: 1, max: 1, f: (a: number[]) => Math.exp(a[0]!) },
  sqrt: { min: 1, max: 1, f: (a: number[]) => Math.sqrt(a[0]!) },
  abs: { min: 1, max: 1, f: (a: number[]) => Math.abs(a[0]!) },
  floor: { min: 1, max: 1, f: (a: number[]) => Math.floor(a[0]!) },
  ceil: { min: 1, max: 1, f: (a: number[]) => Math.ceil(a[0]!) },
  round: { min: 1, max: 1, f: (a: number[]) => Math.round(a[0]!) },
  min: { min: 1, max: 64, f: (a: number[]) => Math.min(...a) },
  max: { min: 1, max: 64, f: (a: number[]) => Math.max(...a) },
} as const;
type FunctionName = keyof typeof FUNCTIONS;

/** A refused expression: `message` says what and where, for the 400 answer. */
export class RetryDelayError extends Error {
  override name = 'RetryDelayError';
}

type Token = { kind: 'num'; value: number; at: number } | { kind: 'name'; value: string; at: number } | { kind: 'punct'; value: string; at: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i, i + 64));
    if (num) {
      out.push({ kind: 'num', value: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 64));
    if (name) {
      out.push({ kind: 'name', value: name[0], at: i });
      i += name[0].length;
      continue;
    }
    if ('+-*/(),'.includes(c)) {
      out.push({ kind: 'punct', value: c, at: i });
      i++;
      continue;
    }
    throw new RetryDelayError(`unexpected character ${JSON.stringify(c)} at ${i + 1}`);
  }
  return out;
}

/** Parses `src`; throws RetryDelayError for anything but a well-formed expression within the limits. */
export function parseRetryDelay(src: string): RetryDelayNode {
  if (src.length > MAX_RETRY_DELAY_LENGTH) throw new RetryDelayError(`longer than ${MAX_RETRY_DELAY_LENGTH} characters`);
  if (src.trim() === '') throw new RetryDelayError('empty expression');
  const tokens = tokenize(src);
  let pos = 0;
  const peek = () => tokens[pos];
  const where = () => (peek() ? `at ${peek()!.at + 1}` : 'at the end');
  const isPunct = (v: string) => peek()?.kind === 'punct' && peek()!.value === v;
  const expect = (v: string) => {
    if (!isPunct(v)) throw new RetryDelayError(`expected "${v}" ${where()}`);
    pos++;
  };
  const deeper = (depth: number) => {
    if (depth > MAX_RETRY_DELAY_DEPTH) throw new RetryDelayError(`nested deeper than ${MAX_RETRY_DELAY_DEPTH} levels`);
    return depth + 1;
  };

  function expr(depth: number): RetryDelayNode {
    let left = term(depth);
    while (isPunct('+') || isPunct('-')) {
      const op = (tokens[pos++] as Token).value as '+' | '-';
      left = { op, left, right: term(depth) };
    }
    return left;
  }
  function term(depth: number): RetryDelayNode {
    let left = unary(depth);
    while (isPunct('*') || isPunct('/')) {
      const op = (tokens[pos++] as Token).value as '*' | '/';
      left = { op, left, right: unary(depth) };
    }
    return left;
  }
  function unary(depth: number): RetryDelayNode {
    if (isPunct('-')) {
      pos++;
      return { op: 'neg', arg: unary(deeper(depth)) };
    }
    if (isPunct('+')) {
      pos++;
      return unary(deeper(depth));
    }
    return atom(depth);
  }
  function atom(depth: number): RetryDelayNode {
    const t = peek();
    if (!t) throw new RetryDelayError('unexpected end of expression');
    if (t.kind === 'num') {
      pos++;
      if (!Number.isFinite(t.value)) throw new RetryDelayError(`number out of range at ${t.at + 1}`);
      return { op: 'num', value: t.value };
    }
    if (t.kind === 'name') {
      pos++;
      if (t.value === 'retried') return { op: 'retried' };
      if (!Object.hasOwn(FUNCTIONS, t.value)) throw new RetryDelayError(`unknown name "${t.value}" at ${t.at + 1}; use retried or ${Object.keys(FUNCTIONS).join(', ')}`);
      const fn = t.value as FunctionName;
      const inner = deeper(depth);
      expect('(');
      const args = [expr(inner)];
      while (isPunct(',')) {
        pos++;
        args.push(expr(inner));
      }
      expect(')');
      const spec = FUNCTIONS[fn];
      if (args.length < spec.min || args.length > spec.max) {
        throw new RetryDelayError(`${fn} takes ${spec.min === spec.max ? spec.min : `${spec.min}–${spec.max}`} argument${spec.max === 1 ? '' : 's'}, got ${args.length}`);
      }
      return { op: 'call', fn, args };
    }
    if (t.value === '(') {
      pos++;
      const e = expr(deeper(depth));
      expect(')');
      return e;
    }
    throw new RetryDelayError(`unexpected "${t.value}" at ${t.at + 1}`);
  }

  const tree = expr(1);
  if (pos < tokens.length) throw new RetryDelayError(`unexpected "${peek()!.value}" at ${peek()!.at + 1}`);
  return tree;
}

function evaluate(n: RetryDelayNode, retried: number): number {
  switch (n.op) {
    case 'num':
      return n.value;
    case 'retried':
      return retried;
    case 'neg':
      return -evaluate(n.arg, retried);
    case '+':
      return evaluate(n.left, retried) + evaluate(n.right, retried);
    case '-':
      return evaluate(n.left, retried) - evaluate(n.right, retried);
    case '*':
      return evaluate(n.left, retried) * evaluate(n.right, retried);
    case '/':
      return evaluate(n.left, retried) / evaluate(n.right, retried);
    case 'call':
      return FUNCTIONS[n.fn].f(n.args.map((a) => evaluate(a, retried)));
  }
}

/**
 * The delay in ms before the next attempt, given `retried` (how often the message has been
 * retried so far, 0 before the first retry). Rounded; negative results are 0; NaN and results
 * over MAX_RETRY_DELAY_MS are MAX_RETRY_DELAY_MS.
 */
export function retryDelayMs(tree: RetryDelayNode, retried: number): number {
  const v = evaluate(tree, retried);
  if (Number.isNaN(v) || v > MAX_RETRY_DELAY_MS) return MAX_RETRY_DELAY_MS;
  return v <= 0 ? 0 : Math.round(v);
}
