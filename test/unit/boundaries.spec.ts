import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The "must not" column of the architecture's Parts table, executable: an
 * import-graph check per part. (The client's own rule has its walk in
 * test/unit/client/boundaries.spec.ts.)
 */
const SRC = resolve(__dirname, '../../src');

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Every relative import of the part's files, as a path under src/ (no extension). */
function importsOf(part: string): Array<{ file: string; target: string; typeOnly: boolean }> {
  const found: Array<{ file: string; target: string; typeOnly: boolean }> = [];
  for (const file of filesUnder(join(SRC, part))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(import|export)(\s+type)?[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
      found.push({ file: relative(SRC, file), target: relative(SRC, resolve(dirname(file), m[3])), typeOnly: m[2] !== undefined });
    }
  }
  return found;
}

const partOf = (target: string) => target.split('/')[0];

describe('architecture: what each part must not do', () => {
  it('transport/ knows no status and decides nobody is dead: it imports no presence, heartbeat, commands or admin', () => {
    const bad = importsOf('transport').filter((i) => ['presence', 'heartbeat', 'commands', 'admin', 'metrics'].includes(partOf(i.target)));
    expect(bad).toEqual([]);
    const statusWords = filesUnder(join(SRC, 'transport')).filter((f) => /PresenceStatus|'leave'|'alive'/.test(readFileSync(f, 'utf8')));
    expect(statusWords.map((f) => relative(SRC, f))).toEqual([]);
  });

  it('protocol/ touches no sockets: no node:net/tls, nothing of transport', () => {
    for (const file of filesUnder(join(SRC, 'protocol'))) {
      expect(readFileSync(file, 'utf8')).not.toMatch(/from ['"]node:(net|tls)['"]/);
    }
    expect(importsOf('protocol').filter((i) => partOf(i.target) !== 'protocol')).toEqual([]);
  });

  it('heartbeat/ imports no presence and stores no records', () => {
    expect(importsOf('heartbeat').filter((i) => ['presence', 'commands', 'admin'].includes(partOf(i.target)))).toEqual([]);
    for (const file of filesUnder(join(SRC, 'heartbeat'))) expect(readFileSync(file, 'utf8')).not.toMatch(/PresenceStore|PRESENCE_STORE/);
  });

  it('presence/ writes to no socket: of transport it sees only events, session views and close reasons', () => {
    const allowed = ['transport/transport.events', 'transport/session-view', 'transport/close-reason'];
    const bad = importsOf('presence').filter((i) => partOf(i.target) === 'transport' && !allowed.includes(i.target));
    expect(bad).toEqual([]);
    expect(importsOf('presence').filter((i) => ['commands', 'admin'].includes(partOf(i.target)))).toEqual([]);
  });

  it('commands/ knows no HTTP, and reaches sockets only through CommandDelivery', () => {
    expect(importsOf('commands').filter((i) => partOf(i.target) === 'admin')).toEqual([]);
    for (const file of filesUnder(join(SRC, 'commands'))) expect(readFileSync(file, 'utf8')).not.toMatch(/@nestjs\/platform-express|from 'express'/);
    const allowed = ['transport/transport.events', 'transport/session-view'];
    expect(importsOf('commands').filter((i) => partOf(i.target) === 'transport' && !allowed.includes(i.target))).toEqual([]);
  });

  it('admin/ holds no state: its services keep no Map/Set of records and it imports no store implementation', () => {
    const bad = importsOf('admin').filter((i) => /memory-.*\.store$/.test(i.target));
    expect(bad).toEqual([]);
    for (const file of filesUnder(join(SRC, 'admin'))) {
      expect({ file: relative(SRC, file), state: /new (Map|Set)</.test(readFileSync(file, 'utf8')) }).toEqual({ file: relative(SRC, file), state: false });
    }
  });

  it('client/ imports only protocol/ and transport/codec/ of the server', () => {
    const bad = importsOf('client').filter((i) => !['client', 'protocol'].includes(partOf(i.target)) && !i.target.startsWith('transport/codec'));
    expect(bad).toEqual([]);
  });

  it('config/ is read through its provider only: nothing but config/ and main.ts reads process.env', () => {
    const readers = filesUnder(SRC)
      .filter((f) => /process\.env\b/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f))
      .filter((f) => !f.startsWith('config/') && !f.startsWith('client/'));
    expect(readers.sort()).toEqual(['longlink.module.ts', 'main.ts'].filter((f) => readers.includes(f)).sort());
  });

  it('the import arrows run downward: no part imports one above it', () => {
    // Lower index = lower layer. A part may import its own layer or below.
    const layers = ['protocol', 'common', 'config', 'transport', 'heartbeat', 'presence', 'commands', 'metrics', 'admin'];
    const upward = layers.flatMap((part, level) =>
      importsOf(part).filter((i) => {
        const to = layers.indexOf(partOf(i.target));
        return to > level;
      }),
    );
    expect(upward).toEqual([]);
  });
});
