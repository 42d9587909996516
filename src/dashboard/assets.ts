// Serves the dashboard's static files (script, CSS, icon) from ./assets next to this module:
// src/dashboard/assets in development, dist/dashboard/assets once built (scripts/build.mjs
// copies them). Read once at start; nothing is loaded from the internet.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  body: Uint8Array;
  type: string;
  etag: string;
}

/** The files of `dir` (default: ./assets beside this module) by name; empty when the folder is missing. */
export function loadAssets(dir = fileURLToPath(new URL('./assets/', import.meta.url))): Map<string, Asset> {
  const out = new Map<string, Asset>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const ext = name.slice(name.lastIndexOf('.'));
    const type = TYPES[ext];
    if (!type) continue;
    const body = readFileSync(`${dir}/${name}`);
    out.set(name, { body: new Uint8Array(body), type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return out;
}
