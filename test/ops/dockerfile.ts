// Reads the Dockerfile and .dockerignore the way Docker does, enough to replay the image's
// build outside Docker (docker.image.test.ts): stages, instructions with continuations, ARG
// substitution in FROM, exec-form arguments, ENV pairs, and the ignore file's last-match rule.

export interface Instruction {
  op: string;
  /** The text after the keyword, continuations joined. */
  args: string;
  /** Leading `--name=value` flags (COPY --from, --chown; HEALTHCHECK --interval…). */
  flags: Record<string, string>;
  /** Exec form (`["node", "x"]`) when the arguments are a JSON array. */
  exec?: string[];
}

export interface Stage {
  from: string;
  name?: string;
  steps: Instruction[];
}

/** Stages of a Dockerfile, with `${ARG}` in FROM resolved from the global ARG defaults. */
export function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!current && (line.trim().startsWith('#') || !line.trim())) continue;
    if (current && line.trim().startsWith('#')) continue;
    if (line.endsWith('\\')) current += line.slice(0, -1) + ' ';
    else {
      lines.push((current + line).trim());
      current = '';
    }
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^(\w+)\s+([\s\S]*)$/.exec(line);
    if (!m) throw new Error(`cannot read Dockerfile line: ${line}`);
    const op = m[1]!.toUpperCase();
    let rest = m[2]!.trim();
    const flags: Record<string, string> = {};
    for (let f = /^--([\w-]+)=(\S+)\s+/.exec(rest); f; f = /^--([\w-]+)=(\S+)\s+/.exec(rest)) {
      flags[f[1]!] = f[2]!;
      rest = rest.slice(f[0].length);
    }
    if (op === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      args[k!] = v ?? '';
      continue;
    }
    if (op === 'FROM') {
      const [image, as, name] = rest.replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? '').split(/\s+/);
      stages.push({ from: image!, name: as?.toUpperCase() === 'AS' ? name : undefined, steps: [] });
      continue;
    }
    const step: Instruction = { op, args: rest, flags };
    if (op === 'HEALTHCHECK') {
      const cmd = /^CMD\s+([\s\S]*)$/.exec(rest);
      if (cmd) step.args = cmd[1]!.trim();
    }
    if (step.args.startsWith('[')) step.exec = JSON.parse(step.args) as string[];
    stages.at(-1)!.steps.push(step);
  }
  return stages;
}

/** `ENV A=1 B="x y"` as pairs. */
export function envPairs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) out[m[1]!] = m[2]!.startsWith('"') ? JSON.parse(m[2]!) : m[2]!;
  return out;
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A .dockerignore as a predicate on context-relative paths: the last matching line wins, and a line matches a path or any of its parent directories. */
export function dockerIgnore(text: string): (relPath: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, re: globToRegExp(p) };
    });
  return (relPath) => {
    const parts = relPath.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const r of rules) if (candidates.some((c) => r.re.test(c))) ignored = !r.negate;
    return ignored;
  };
}
