// `npm start` on a fresh clone or after a pull: build the client once when no build exists yet
// (`npm run build` rebuilds it), and compile the server whenever its sources are newer than
// the compiled file (a fraction of a second), so start always runs the code in the tree.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (command, args) => {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync(path.join(root, 'dist/client/index.html'))) {
  console.log('No client build found: building it once (npm run build)…');
  run('npx', ['vite', 'build', '--logLevel', 'warn']);
}

/** The newest modification time of any file under these folders. */
function newest(folders) {
  let latest = 0;
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else latest = Math.max(latest, statSync(full).mtimeMs);
    }
  };
  for (const folder of folders) visit(path.join(root, folder));
  return latest;
}

const compiled = path.join(root, 'dist/server/index.js');
if (!existsSync(compiled) || statSync(compiled).mtimeMs < newest(['server/src', 'shared'])) {
  run(process.execPath, [path.join(root, 'scripts/build-server.mjs')]);
}
