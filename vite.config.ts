import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

const apiPort = process.env.API_PORT ?? '3001';

export default defineConfig({
  root: 'client',
  plugins: [react()],
  resolve: {
    alias: {
      '@shared': fileURLToPath(new URL('./shared', import.meta.url)),
      '@': fileURLToPath(new URL('./client/src', import.meta.url)),
    },
  },
  // Only VITE_-prefixed variables could reach the bundle; the app defines none.
  envPrefix: 'VITE_',
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    // Maps for our own debugging, never referenced from the code (and never served: client-assets.ts).
    sourcemap: 'hidden',
    // Every browser the app supports knows modulepreload; the polyfill would only add bytes.
    modulePreload: { polyfill: false },
    rolldownOptions: { plugins: [precompress()] },
  },
  server: {
    port: Number(process.env.PORT ?? 3000),
    proxy: { '/api': `http://127.0.0.1:${apiPort}`, '/healthz': `http://127.0.0.1:${apiPort}` },
  },
  test: {
    root: '.',
    projects: [
      {
        extends: true,
        test: {
          name: 'server',
          root: '.',
          include: ['tests/server/**/*.test.ts', 'tests/simulator/**/*.test.ts'],
          // Tests that run the real server as child processes go alone, after the rest.
          exclude: ['tests/server/crash-recovery.test.ts', 'tests/server/several-instances.test.ts'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'processes',
          root: '.',
          include: ['tests/server/crash-recovery.test.ts', 'tests/server/several-instances.test.ts'],
          environment: 'node',
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'client',
          root: '.',
          include: ['tests/client/**/*.test.{ts,tsx}'],
          environment: 'jsdom',
          setupFiles: ['tests/client/setup.ts'],
        },
      },
    ],
  },
});

/**
 * Writes name.br and name.gz next to every text file of the build, once, at the highest
 * levels, for server/src/http/client-assets.ts to send to browsers that accept them.
 */
function precompress(): Plugin {
  const TEXT = /\.(?:html|js|css|json|svg|txt)$/;
  const MIN_BYTES = 1024;
  const brotli = promisify(brotliCompress);
  const gz = promisify(gzip);
  return {
    name: 'mj-studio:precompress',
    async writeBundle({ dir }, bundle) {
      if (!dir) return;
      const files = Object.keys(bundle).filter((fileName) => TEXT.test(fileName));
      await Promise.all(
        files.map(async (fileName) => {
          const file = path.join(dir, fileName);
          const source = await readFile(file);
          if (source.length < MIN_BYTES) return;
          const [br, gzipped] = await Promise.all([
            brotli(source, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
                [constants.BROTLI_PARAM_SIZE_HINT]: source.length,
              },
            }),
            gz(source, { level: constants.Z_BEST_COMPRESSION }),
          ]);
          if (br.length < source.length) await writeFile(`${file}.br`, br);
          if (gzipped.length < source.length) await writeFile(`${file}.gz`, gzipped);
        }),
      );
    },
  };
}
