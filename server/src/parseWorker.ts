// The parse's helper thread (see parseThread): bundled on its own as dist/parseWorker.js.
import { parentPort, workerData } from 'node:worker_threads';
import { RowScanner } from './core/rowScan';
import { type PieceMessage, serveParseThread, type ThreadData } from './parseThread';

/**
 * Lines of the shapes a large dump is made of, scanned once as the thread starts (a few
 * milliseconds while the editor sends the dump) so that V8 has compiled the scanner before the
 * first dump arrives rather than during it.
 */
function warmUp(): void {
  const lines = ['*nat', ':KUBE-SERVICES - [0:0]'];
  for (let i = 0; i < 4000; i++) {
    const sep = `KUBE-SEP-${(1e15 + i * 7919).toString(36).toUpperCase().padStart(16, 'A')}`;
    const svc = `KUBE-SVC-${(2e15 + (i >> 3) * 104729).toString(36).toUpperCase().padStart(16, 'A')}`;
    lines.push(
      `:${sep} - [0:0]`,
      `-A KUBE-SERVICES -d 10.96.${i >> 8}.${i & 255}/32 -p tcp -m comment --comment "ns/app-${i}:http cluster IP" -m tcp --dport 80 -j ${svc}`,
      `-A ${svc} -m statistic --mode random --probability 0.12500000000 -j ${sep}`,
      `-A ${sep} -s 10.244.${i >> 8}.${i & 255}/32 -j KUBE-MARK-MASQ`,
      `-A ${sep} -p tcp -m tcp -j DNAT --to-destination 10.244.${i >> 8}.${i & 255}:8080`,
    );
  }
  lines.push('COMMIT', '');
  new RowScanner(() => undefined).scan(lines.join('\n'), 0, true);
}

warmUp();
serveParseThread(
  workerData as ThreadData,
  (listener) => parentPort!.on('message', (message: PieceMessage) => listener(message)),
  (emit, recycled) => new RowScanner(emit, recycled),
);
