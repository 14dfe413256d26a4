// Bundles the CLI and every JavaScript action into single files that run without node_modules.
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// ESM bundles still meet CommonJS dependencies that call require(); give them one.
const banner = "import { createRequire as __gpbCreateRequire } from 'node:module'; const require = __gpbCreateRequire(import.meta.url);";

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
  // Same input, same bytes: CI compares committed action bundles with a fresh build.
  sourcemap: false,
  define: { __GPB_VERSION__: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) },
};

const entries = [{ entry: 'src/cli/main.ts', out: 'dist/backup-manager.mjs', shebang: true }];
for (const name of existsSync('actions') ? readdirSync('actions') : []) {
  const entry = join('actions', name, 'src', 'main.ts');
  if (existsSync(entry)) entries.push({ entry, out: join('actions', name, 'dist', 'index.mjs') });
}

await Promise.all(
  entries.map(({ entry, out, shebang }) =>
    build({
      ...common,
      entryPoints: [entry],
      outfile: out,
      banner: { js: (shebang ? '#!/usr/bin/env node\n' : '') + banner },
    }),
  ),
);
console.log(`built ${entries.map((e) => e.out).join(', ')}`);
