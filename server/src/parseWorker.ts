// The parse's helper thread (see parseThread): bundled on its own as dist/parseWorker.js.
import { parentPort, workerData } from 'node:worker_threads';
import { RowScanner } from './core/rowScan';
import { type PieceMessage, serveParseThread, type ThreadData } from './parseThread';

serveParseThread(
  workerData as ThreadData,
  (listener) => parentPort!.on('message', (message: PieceMessage) => listener(message)),
  (emit, recycled) => new RowScanner(emit, recycled),
);
