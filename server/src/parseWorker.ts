// The parse's helper thread (see parseThread), bundled on its own as dist/parseWorker.js: reads
// the pieces of text it is sent into rows and posts them, a batch at a time, to the parser.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type RowBatch, RowScanner } from './core/rowScan';
import { type BatchMessage, type PieceMessage, POSTED, type ThreadData, WANTED } from './parseThread';

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

const { port, flags } = workerData as ThreadData;

/** Posts a message to the parser and wakes it if it waits. */
function post(message: BatchMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.add(flags, POSTED, 1);
  Atomics.notify(flags, POSTED);
}

warmUp();
let job = 0;
let scanner: RowScanner | undefined;
parentPort!.on('message', (message: PieceMessage) => {
  // A job the parser no longer wants (it read the rest itself, or started another).
  if (Atomics.load(flags, WANTED) !== message.job) return;
  if (message.job !== job) {
    job = message.job;
    const current = job;
    scanner = new RowScanner(
      (batch: RowBatch) => post({ job: current, ...batch }, [batch.rows.buffer as ArrayBuffer]),
      // Rows the parser is done with, handed back.
      () => receiveMessageOnPort(port)?.message as Int32Array | undefined,
    );
  }
  try {
    scanner!.scan(message.piece, message.offset, message.last);
  } catch (error) {
    post({ job, failed: `the parse thread could not read the dump: ${(error as Error).message}` });
    Atomics.compareExchange(flags, WANTED, job, 0);
  }
});
