// Writes a generated kube-proxy dump (server/src/kube/generate.ts) to a file or to stdout.
//   node out/bench/generate.js <services> <endpoints-per-service> [output-file]
import * as fs from 'node:fs';
import { generateDump } from '../server/src/kube/generate';

const [services, endpoints, file] = process.argv.slice(2);
const s = Number(services);
const e = Number(endpoints);
if (!Number.isInteger(s) || !Number.isInteger(e) || s < 1 || e < 1) {
  process.stderr.write('Usage: node out/bench/generate.js <services> <endpoints-per-service> [output-file]\n');
  process.exit(2);
}
const dump = generateDump(s, e);
if (file) fs.writeFileSync(file, dump.text);
else process.stdout.write(dump.text);
process.stderr.write(`${dump.lines} lines, ${(Buffer.byteLength(dump.text) / 1e6).toFixed(1)} MB, ${dump.services} services, ${dump.endpoints} endpoints\n`);
