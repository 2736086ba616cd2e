// Bundles the extension (client) and the language server into dist/ with esbuild.
//   node scripts/build.mjs [--production] [--outdir <dir>]
// --production (what `vsce package` and `npm pack` ship): minified, no source maps.
// --outdir: another folder than dist/ (the activation benchmark builds the shipped bundles
// there without touching dist/).
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const at = process.argv.indexOf('--outdir');
const outdir = at === -1 ? 'dist' : process.argv[at + 1];
if (!outdir) throw new Error('--outdir needs a folder');
const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: !production, minify: production, logLevel: 'warning' };

await Promise.all([
  esbuild.build({ ...common, entryPoints: ['client/src/extension.ts'], outfile: `${outdir}/client.js`, external: ['vscode'], loader: { '.iptables-save': 'text' } }),
  esbuild.build({ ...common, entryPoints: ['server/src/main.ts'], outfile: `${outdir}/server.js` }),
  // The parse's helper thread, loaded by the server and the CLI from beside them.
  esbuild.build({ ...common, entryPoints: ['server/src/parseWorker.ts'], outfile: `${outdir}/parseWorker.js` }),
  esbuild.build({ ...common, entryPoints: ['server/src/cli.ts'], outfile: `${outdir}/cli.js` }),
]);
