// A bench measurement written in TypeScript (bench/*.ts), bundled with esbuild so it can use the stand-ins of
// test/helpers, then imported and run: the one way the metadata benches load their measurements.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Bundle bench/<file> and call its export `run` with `options`; the bundle is removed afterwards. */
export async function runBundled(file, run, options) {
  const out = mkdtempSync(join(tmpdir(), 'gpb-bench-build-'));
  const bundle = join(out, file.replace(/\.ts$/, '.mjs'));
  try {
    await build({
      entryPoints: [join(dirname(fileURLToPath(import.meta.url)), file)],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
      banner: { js: "import { createRequire as __gpbCreateRequire } from 'node:module'; const require = __gpbCreateRequire(import.meta.url);" },
      define: { __GPB_VERSION__: '"bench"' },
    });
    const loaded = await import(pathToFileURL(bundle).href);
    return await loaded[run](options);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
