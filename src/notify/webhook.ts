/**
 * One webhook request: POST the signed document to the destination, with a timeout, no redirects
 * followed, the answer's body read up to a small bound and dropped. Any 2xx is a delivery; all
 * else (refused, timed out, 3xx, 4xx, 5xx) is a failure the subscriber retries.
 */
import { SIGNATURE_HEADER, signBody } from './signature.js';

export const DELIVERY_ID_HEADER = 'Tracechain-Delivery-Id';
export const SUBSCRIPTION_ID_HEADER = 'Tracechain-Subscription-Id';

export interface WebhookRequest {
  dest: string;
  secret: string;
  subscriptionId: string;
  deliveryId: string;
  body: string;
}

/** Sends one delivery; resolves on a 2xx, throws an Error saying why not. */
export type WebhookSender = (req: WebhookRequest) => Promise<void>;

export function webhookSender(opts: { timeoutMs: number; userAgent: string }): WebhookSender {
  return async (req) => {
    let res: Response;
    try {
      res = await fetch(req.dest, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(opts.timeoutMs),
        headers: {
          'content-type': 'application/ld+json',
          'user-agent': opts.userAgent,
          [SIGNATURE_HEADER]: signBody(req.secret, req.body),
          [DELIVERY_ID_HEADER]: req.deliveryId,
          [SUBSCRIPTION_ID_HEADER]: req.subscriptionId,
          'GS1-EPCIS-Version': '2.0.0',
        },
        body: req.body,
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : (e.cause?.code ?? e.message);
      throw new Error(`request failed: ${why}`);
    }
    // Read (and drop) at most 64 KiB of the answer so the connection can be reused.
    await drain(res, 64 * 1024);
    if (res.status < 200 || res.status > 299) throw new Error(`answered HTTP ${res.status}`);
  };
}

async function drain(res: Response, max: number): Promise<void> {
  const reader = res.body?.getReader();
  if (reader === undefined) return;
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      n += value.byteLength;
      if (n > max) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The answer's body is not needed: its status decided the outcome.
  }
}
