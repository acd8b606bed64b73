import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  at: number;
  headers: Record<string, string>;
  body: string;
  /** The status this receiver answered. */
  status: number;
}

export interface ReceiverFault {
  status: number;
  retryAfter?: string;
  /** Never answer (a receiver that hangs). */
  hang?: boolean;
}

/**
 * An app's webhook endpoint: records every POST (raw body and headers, for
 * signature checks) and answers 204, or the next programmed fault.
 */
export class WebhookReceiver {
  private server?: Server;
  readonly received: ReceivedWebhook[] = [];
  /**
   * Decides the answer to each delivery (default 204). The outbox is shared
   * by every suite of a test run, so tests answer by what the event is about.
   */
  respond?: (event: any) => ReceiverFault | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let fault: ReceiverFault | undefined;
        try {
          fault = this.respond?.(JSON.parse(body));
        } catch {
          fault = { status: 400 };
        }
        const status = fault?.status ?? 204;
        this.received.push({
          at: Date.now(),
          headers: Object.fromEntries(
            Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
          ),
          body,
          status,
        });
        if (fault?.hang) return;
        if (fault?.retryAfter) response.setHeader('retry-after', fault.retryAfter);
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/token-broker`;
  }

  /** Received deliveries whose event concerns one connection, parsed. */
  eventsFor(connectionId: string): Array<ReceivedWebhook & { event: any }> {
    return this.received
      .map((delivery) => ({ ...delivery, event: JSON.parse(delivery.body) }))
      .filter((delivery) => delivery.event.data?.connectionId === connectionId);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
