// Nesting depth of a parsed JSON value, measured without recursion (hostile payloads may be
// 10,000 levels deep, more than a recursive walk or JSON.stringify survives).

/** True when `value` nests deeper than `max` levels of arrays/objects. */
export function deeperThan(value: unknown, max: number): boolean {
  const stack: { v: unknown; d: number }[] = [{ v: value, d: 0 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) return true;
    const children = Array.isArray(v) ? v : Object.values(v as object);
    for (const c of children) if (c !== null && typeof c === 'object') stack.push({ v: c, d: d + 1 });
  }
  return false;
}
