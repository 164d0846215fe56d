import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

/** What `npm pack` needs of a clean clone: sources, build config, the files it ships. */
const PACK_INPUTS = ['src', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.dashboard.json', 'README.md', '.env.example', 'LICENSE'];

/**
 * The package as `npm pack` makes it from a fresh clone: a copy of the
 * project without dist/, built by the script `prepack` runs, then packed.
 * A copy, so the project's own dist/ (which other suites run) is never
 * deleted under them; node_modules is linked. The build is run here rather
 * than by `npm pack` itself only to skip the dashboard's type check
 * (`npm run typecheck` has it; ~8 s of CPU); the test checks that prepack
 * runs this same build. Returns the tarball's path.
 */
export async function packProject(dir: string): Promise<string> {
  const copy = join(dir, 'project');
  mkdirSync(copy);
  for (const name of PACK_INPUTS) if (existsSync(join(ROOT, name))) cpSync(join(ROOT, name), join(copy, name), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  await run(process.execPath, [join(copy, 'scripts', 'build.mjs'), '--transpile-only-dashboard'], { cwd: copy, maxBuffer: 16 << 20 });
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: copy, maxBuffer: 16 << 20 });
  const report = JSON.parse(stdout) as Array<{ filename: string }>;
  return join(dir, report[0].filename);
}

/** Paths inside the tarball, without the leading `package/`. */
export async function tarballFiles(tarball: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tzf', tarball], { maxBuffer: 16 << 20 });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((p) => p.replace(/^package\//, ''));
}

/** Unpacks the tarball as npm would into `<appDir>/node_modules/longlink`. */
export async function unpackInto(tarball: string, appDir: string): Promise<void> {
  const target = join(appDir, 'node_modules', 'longlink');
  mkdirSync(target, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
}

/**
 * Links every other package the app needs (the peer deps, typescript, @types)
 * from the project's node_modules, instead of `npm install`: installing the
 * ~160 packages from the npm cache takes 35-50 s on the project's 2-core
 * machine, linking takes milliseconds. Node resolves links to their real
 * path, so the app and longlink share ONE @nestjs/core, as npm's peer
 * dependency resolution gives them.
 */
export function linkProjectModules(appDir: string, except: string[] = ['longlink']): void {
  const modules = join(appDir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (except.includes(name) || name === '.package-lock.json') continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(modules, name), 'dir');
  }
}

export { run as execFileAsync };
