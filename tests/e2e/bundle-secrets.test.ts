import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import { expect, test } from 'vitest';
import { ROOT } from './harness';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
  );
}

test('a client built with the API key in the environment contains the key in no asset', async () => {
  const canary = `sk-canary-${Date.now().toString(36)}`;
  const outDir = mkdtempSync(path.join(tmpdir(), 'mj-bundle-'));
  process.env.MIDJOURNEY_API_KEY = canary;
  process.env.VITE_MIDJOURNEY_API_KEY_PROBE = 'probe-not-used-by-the-app';
  try {
    await build({
      configFile: path.join(ROOT, 'vite.config.ts'),
      logLevel: 'silent',
      build: { outDir, emptyOutDir: true },
    });
  } finally {
    delete process.env.MIDJOURNEY_API_KEY;
    delete process.env.VITE_MIDJOURNEY_API_KEY_PROBE;
  }

  const files = filesUnder(outDir);
  expect(files.some((file) => file.endsWith('.js'))).toBe(true);
  for (const file of files) expect(readFileSync(file, 'utf8')).not.toContain(canary);
});
