// The parser's helper thread, seen from the parser's side. A large dump's text is sent to the
// thread in pieces; the thread reads its lines into rows (core/rowScan) while the parser makes
// the rules from the rows it has already received, on the other core. The parse stays a plain
// function call: waiting for the next batch blocks the calling thread (Atomics.wait), as the
// parse always has, and takes the batch off the port with receiveMessageOnPort.
//
// The helper only speeds the parse up. Whatever happens to it (not started, too slow, an
// error, gone), the parser reads the lines it has no rows for itself and gives the same result.
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { pieceEnd, ROW_LINE_END, ROW_SLOTS, type RowBatch, type RowSource, type RowStream } from './core/rowScan';

/** Below this many characters (about 12,000 lines) the parse is quicker than handing the text over. */
export const MIN_THREADED_LENGTH = 1_000_000;
/** Pieces of text sent at a time: the thread starts on the first while the next are copied. */
const PIECE_LENGTH = 1 << 20;
/**
 * How many pieces the text sent runs ahead of the rows received. Enough for the thread never
 * to run dry while the parser reads a batch; few enough pieces in flight that their copies
 * reuse the same memory. Sent all at once, the 100 MB of a 30,000-service dump took 60-120 ms
 * to post (the copies' memory new each time) against 25 ms for a third of it.
 */
const PIECES_AHEAD = 4;
/** How long the parser waits for a batch before it reads the rest itself. */
const BATCH_WAIT_MS = 3000;

// The shared flags: [0] counts batches posted (the parser waits on it), [1] is the job the parser wants.
export const POSTED = 0;
export const WANTED = 1;

/** What the thread is sent: a piece of a job's text. */
export interface PieceMessage {
  job: number;
  piece: string;
  offset: number;
  last: boolean;
}

/** What the thread sends back: a batch of a job's rows, or word that it failed. */
export type BatchMessage = { job: number; failed?: undefined } & RowBatch | { job: number; failed: string };

/** What the thread is started with. */
export interface ThreadData {
  port: MessagePort;
  flags: Int32Array;
}

export class ParseThread implements RowSource {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private readonly flags = new Int32Array(new SharedArrayBuffer(8));
  private job = 0;
  /** A thread that failed (did not load, died, or went silent) is not started again: the parse goes on alone. */
  private failed = false;
  /** Why the last job did without the thread, for the log. */
  lastProblem: string | undefined;

  /** `script`: the thread's code (parseWorker.js beside the server's). */
  constructor(
    private readonly script: string,
    private readonly minLength = MIN_THREADED_LENGTH,
    private readonly waitMs = BATCH_WAIT_MS,
    private readonly pieceLength = PIECE_LENGTH,
  ) {}

  /** Starts the thread now, so that the first large dump does not wait for it. */
  start(): void {
    if (this.worker || this.failed) return;
    const channel = new MessageChannel();
    const data: ThreadData = { port: channel.port2, flags: this.flags };
    try {
      const worker = new Worker(this.script, { workerData: data, transferList: [channel.port2] });
      // The thread must not keep the process alive, nor take it down.
      worker.unref();
      worker.on('error', (error) => this.fail(worker, `the parse thread failed: ${error.message}`));
      worker.on('exit', () => this.fail(worker, 'the parse thread exited'));
      this.worker = worker;
      this.port = channel.port1;
    } catch (error) {
      this.failed = true;
      this.lastProblem = `the parse thread did not start: ${(error as Error).message}`;
      channel.port1.close();
    }
  }

  /** Stops the thread. */
  stop(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.port?.close();
    this.port = undefined;
    void worker?.terminate();
  }

  private fail(worker: Worker | undefined, problem: string): void {
    if (this.worker !== worker) return;
    this.failed = true;
    this.lastProblem = problem;
    this.stop();
  }

  read(text: string): RowStream | undefined {
    if (text.length < this.minLength) return undefined;
    this.start();
    const worker = this.worker;
    const port = this.port;
    if (!worker || !port) return undefined;
    const job = ++this.job;
    Atomics.store(this.flags, WANTED, job);
    const { pieceLength } = this;
    const ahead = PIECES_AHEAD * pieceLength;
    // The text sent so far: [0, sent).
    let sent = 0;
    const send = (upTo: number) => {
      while (sent < upTo && sent < text.length) {
        const end = pieceEnd(text, sent, pieceLength);
        worker.postMessage({ job, piece: text.slice(sent, end), offset: sent, last: end === text.length } satisfies PieceMessage);
        sent = end;
      }
    };
    send(ahead);
    let done: Int32Array | undefined;
    return {
      next: () => {
        // The rows of the batch before are read: the thread may fill them again.
        if (done) port.postMessage(done, [done.buffer as ArrayBuffer]);
        const batch = this.next(port, job);
        // The thread hands over the rows of every piece it is sent (RowScanner.scan): sending on from the end of each batch received, it always has a piece to read.
        if (batch && batch.count > 0) send(batch.rows[(batch.count - 1) * ROW_SLOTS + ROW_LINE_END]! + ahead);
        done = batch?.rows;
        return batch;
      },
      close: () => {
        // Pieces still queued for this job are skipped by the thread.
        if (Atomics.load(this.flags, WANTED) === job) Atomics.store(this.flags, WANTED, 0);
      },
    };
  }

  private next(port: MessagePort, job: number): RowBatch | undefined {
    for (;;) {
      const posted = Atomics.load(this.flags, POSTED);
      const received = receiveMessageOnPort(port);
      if (received) {
        const message = received.message as BatchMessage;
        if (message.job !== job) continue;
        if (message.failed !== undefined) {
          this.lastProblem = message.failed;
          return undefined;
        }
        return message;
      }
      if (Atomics.wait(this.flags, POSTED, posted, this.waitMs) === 'timed-out') {
        this.fail(this.worker, `the parse thread sent nothing for ${this.waitMs} ms`);
        return undefined;
      }
    }
  }
}
