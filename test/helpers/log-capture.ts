import { Writable } from 'node:stream';

/** A pino destination that keeps every line, so tests can search the logs for leaked values. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }

  text(): string {
    return this.lines.join('\n');
  }
}
