import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';

/**
 * A user who clones the repository has only the repository: no file may point
 * outside it (the design record the project grew from lived in a sibling
 * `shared` directory), and every relative markdown link must land on a file of
 * the repository (and on a heading, when it names one).
 */
const ROOT = resolve(__dirname, '../../..');

/** Spelled in pieces so that this file does not match itself. */
const OUTSIDE = new RegExp(['\\.\\.', 'shared'].join('/') + '|' + ['', 'work', 'shared'].join('/'));

interface Problem {
  file: string;
  line: number;
  text: string;
}

/** Tracked files plus new files not ignored (so a doc written but not yet added still counts). */
function repoFiles(root: string): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' });
  return out
    .split('\0')
    .filter((f) => f.length > 0 && !f.startsWith('node_modules/') && existsSync(join(root, f)));
}

function isText(buffer: Buffer): boolean {
  return !buffer.subarray(0, 8000).includes(0);
}

/** Lines of a markdown file outside fenced code blocks, with inline code spans blanked. */
function proseLines(text: string): Array<{ line: number; text: string }> {
  const lines: Array<{ line: number; text: string }> = [];
  let fence: string | undefined;
  text.split('\n').forEach((raw, i) => {
    const opener = /^\s*(```+|~~~+)/.exec(raw);
    if (opener) {
      if (fence === undefined) fence = opener[1][0];
      else if (opener[1][0] === fence) fence = undefined;
      return;
    }
    if (fence === undefined) lines.push({ line: i + 1, text: raw.replace(/`[^`]*`/g, '``') });
  });
  return lines;
}

/** GitHub's heading anchors: lower case, punctuation and symbols dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const raw of markdown.split('\n')) {
    const opener = /^\s*(```+|~~~+)/.exec(raw);
    if (opener) {
      if (fence === undefined) fence = opener[1][0];
      else if (opener[1][0] === fence) fence = undefined;
      continue;
    }
    const heading = fence === undefined ? /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw) : null;
    if (!heading) continue;
    const text = heading[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text.toLowerCase().replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Inline links `[text](target)`, images included, and reference definitions `[name]: target`. */
function linkTargets(line: string): string[] {
  const targets: string[] = [];
  for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]);
  const ref = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
  if (ref) targets.push(ref[1]);
  return targets;
}

function checkRepo(root: string): Problem[] {
  const files = repoFiles(root);
  const known = new Set(files);
  for (const f of files) for (let d = posix.dirname(f); d !== '.'; d = posix.dirname(d)) known.add(d);
  const problems: Problem[] = [];
  for (const file of files) {
    // An untracked link to a directory (a worktree's node_modules) is no file to read.
    if (!statSync(join(root, file)).isFile()) continue;
    const buffer = readFileSync(join(root, file));
    if (!isText(buffer)) continue;
    const text = buffer.toString('utf8');
    text.split('\n').forEach((line, i) => {
      if (OUTSIDE.test(line)) problems.push({ file, line: i + 1, text: `refers outside the repository: ${line.trim().slice(0, 120)}` });
    });
    if (!file.endsWith('.md')) continue;
    for (const { line, text: prose } of proseLines(text)) {
      for (const target of linkTargets(prose)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
        const path = decodeURIComponent(pathPart.split('?')[0]);
        const resolved = path === '' ? file : posix.normalize(path.startsWith('/') ? path.slice(1) : posix.join(posix.dirname(file), path));
        if (resolved.startsWith('..') || !known.has(resolved.replace(/\/$/, ''))) {
          problems.push({ file, line, text: `link to '${target}': no such file in the repository` });
          continue;
        }
        if (anchor !== undefined && anchor !== '' && resolved.endsWith('.md') && !anchorsOf(readFileSync(join(root, resolved), 'utf8')).has(anchor)) {
          problems.push({ file, line, text: `link to '${target}': ${resolved} has no heading with that anchor` });
        }
      }
    }
  }
  return problems;
}

const format = (problems: Problem[]) => problems.map((p) => `${p.file}:${p.line}: ${p.text}`).join('\n');

describe('no file refers outside the repository', () => {
  it('holds for every file of this repository', () => {
    expect(format(checkRepo(ROOT))).toBe('');
  });

  describe('the check itself (on a scratch repository)', () => {
    let dir: string;
    const write = (file: string, text: string) => {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    };

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'longlink-links-'));
      execFileSync('git', ['init', '-q'], { cwd: dir });
      write('docs/PROTOCOL.md', '# Spec\n\n## 3. Presence: alive ⇄ leave ⇄ close\n');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('accepts links to files and headings that exist, URLs, and links inside code', () => {
      write(
        'README.md',
        [
          'See [the spec](docs/PROTOCOL.md), [§3](docs/PROTOCOL.md#3-presence-alive--leave--close), [top](#readme) and [web](https://example.com/x.md).',
          '# Readme',
          '```',
          '[not a link](missing.md)',
          '```',
          'Inline `[code](missing.md)` is no link.',
        ].join('\n'),
      );
      expect(checkRepo(dir)).toEqual([]);
    });

    it('finds a reference to the sibling shared directory in any file', () => {
      write('src/a.ts', `// see ${['..', 'shared', 'PROTOCOL.md'].join('/')}\n`);
      expect(format(checkRepo(dir))).toMatch(/^src\/a\.ts:1: refers outside the repository/);
    });

    it('finds a relative link to a missing file, one leaving the repository, and a missing anchor', () => {
      write('docs/A.md', '[gone](B.md)\n[up](../../elsewhere/X.md)\n[anchor](PROTOCOL.md#4-commands)\n');
      const found = format(checkRepo(dir));
      expect(found).toContain("docs/A.md:1: link to 'B.md': no such file");
      expect(found).toContain("docs/A.md:2: link to '../../elsewhere/X.md': no such file");
      expect(found).toContain("docs/A.md:3: link to 'PROTOCOL.md#4-commands': docs/PROTOCOL.md has no heading");
    });
  });
});
