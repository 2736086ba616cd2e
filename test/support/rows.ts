import { forEachPiece, type RowBatch, RowScanner, type RowSource } from '../../server/src/core/rowScan';

/**
 * The helper thread's scanner run in the test's own thread: the whole text is scanned at once,
 * handed to it in pieces of about `pieceLength` characters (cut after a newline, as the thread
 * is sent them), and the batches are handed to the parser in order.
 */
export function rowsInThisThread(pieceLength = 1000): RowSource & { batchesRead: number; batchLines: number[]; taken: number } {
  const source = {
    batchesRead: 0,
    /** How many lines each batch read held. */
    batchLines: [] as number[],
    /** Lines the parser made from rows, over all texts read. */
    taken: 0,
    read(text: string) {
      const batches: RowBatch[] = [];
      const scanner = new RowScanner((batch) => batches.push(batch));
      forEachPiece(text, pieceLength, (piece, offset, last) => scanner.scan(piece, offset, last));
      return {
        next: () => {
          const batch = batches.shift();
          if (batch) {
            source.batchesRead++;
            source.batchLines.push(batch.count);
          }
          return batch;
        },
        close: (taken: number) => {
          source.taken += taken;
        },
      };
    },
  };
  return source;
}
