#!/usr/bin/env node
// Builds the dashboard page into dist/dashboard/: its TypeScript compiled
// with tsconfig.dashboard.json (native ES modules, no bundler), then the
// files that need no compiling (HTML, CSS) copied beside it.
//
//   node scripts/build-dashboard.js                    what `npm run build` runs: tsc, type-checked
//   node scripts/build-dashboard.js --transpile-only   the browser test: same output, no type check
//                                                      (seconds faster; `npm run typecheck` checks the types)
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const project = join(root, 'tsconfig.dashboard.json');
const src = join(root, 'src', 'dashboard');
const out = join(root, 'dist', 'dashboard');

/**
 * Write then rename: a gateway may be serving these files while another test
 * process builds them again, and must never read a half-written one.
 */
function writeAtomically(file, content) {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content);
  renameSync(temp, file);
}

function transpileOnly() {
  const ts = require('typescript');
  const { config, error } = ts.readConfigFile(project, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const { options, fileNames } = ts.parseJsonConfigFileContent(config, ts.sys, root);
  for (const file of fileNames) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file });
    writeAtomically(join(out, file.slice(src.length + 1).replace(/\.ts$/, '.js')), outputText);
  }
}

mkdirSync(out, { recursive: true });
if (process.argv.includes('--transpile-only')) transpileOnly();
else execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project], { stdio: 'inherit', cwd: root });
for (const file of readdirSync(src)) {
  if (/\.(html|css)$/.test(file)) writeAtomically(join(out, file), readFileSync(join(src, file)));
}
