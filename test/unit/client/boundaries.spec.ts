import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(__dirname, '../../../src');
/** The layering rule (README, client SDK section): client/ shares only protocol/ and transport/codec/ with the server. */
const ALLOWED = ['client', 'protocol', 'transport/codec'];

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\s+['"]([^'"]+)['"]|require\(['"]([^'"]+)['"]\)/g;
  return [...text.matchAll(found)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** Every file the client's import graph reaches, starting from src/client/*.ts. */
function reach(): { files: Set<string>; outside: string[] } {
  const files = new Set<string>();
  const outside: string[] = [];
  const queue = readdirSync(join(SRC, 'client')).filter((f) => f.endsWith('.ts')).map((f) => join(SRC, 'client', f));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('node:')) continue;
      if (!spec.startsWith('.')) {
        outside.push(`${relative(SRC, file)} imports the package '${spec}'`);
        continue;
      }
      let target = resolve(dirname(file), spec);
      const part = relative(SRC, target);
      if (!ALLOWED.some((a) => part === a || part.startsWith(`${a}/`))) outside.push(`${relative(SRC, file)} imports ${part}`);
      target = readdirSync(dirname(target)).includes(`${target.split('/').pop()}.ts`) ? `${target}.ts` : join(target, 'index.ts');
      queue.push(target);
    }
  }
  return { files, outside };
}

describe('client SDK boundaries', () => {
  it('reaches no server code and no npm package, only protocol/ and transport/codec/', () => {
    const { files, outside } = reach();
    expect(outside).toEqual([]);
    // The walk did follow the imports into the shared folders.
    const parts = [...files].map((f) => relative(SRC, f));
    expect(parts).toEqual(expect.arrayContaining(['client/long-link-client.ts', 'protocol/index.ts', 'transport/codec/frame-decoder.ts']));
  });
});
