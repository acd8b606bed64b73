import { Writable } from 'node:stream';

/** Collects everything a pino logger writes, to prove afterwards that no secret is in it. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    callback();
  }

  text(): string {
    return this.lines.join('\n');
  }

  /** The secrets from `candidates` that appear anywhere in the captured output. */
  leaked(candidates: Iterable<string>): string[] {
    const text = this.text();
    return [...candidates].filter((secret) => secret.length >= 8 && text.includes(secret));
  }
}
