/**
 * The order proactive refreshes leave the queue in: soonest expiry first.
 *
 * The sweep enqueues in expiry order, but a plain FIFO queue loses it: a job
 * that finds its integration's slots all taken goes back to the queue
 * (RetryLater, so its worker can serve other integrations), and BullMQ puts
 * a promoted delayed job at the back, behind the whole backlog. Under a mass
 * expiry the earliest tokens were the ones that waited longest, and some
 * expired unrefreshed. A BullMQ priority survives the delay: the job comes
 * back in its place.
 *
 * BullMQ priorities are integers from 1 (first) to 2^21 - 1, so the value is
 * the expiry in seconds from a reference that all replicas agree on without
 * talking: the start of the current 2^20-second (about 12-day) bucket of
 * the Unix clock. Every due token expires within the refresh margin of now,
 * so its offset fits; tokens already expired get 1. Where a bucket ends,
 * jobs queued just after the boundary sort ahead of those just before it
 * for that one turn of the queue (every 12 days, for a few minutes' worth).
 */
export const MAX_PRIORITY = 2 ** 21 - 1;
/** Idle grants (refreshed so their refresh token stays alive) come after every expiring token. */
export const IDLE_PRIORITY = MAX_PRIORITY;
const BUCKET_SECONDS = 2 ** 20;

export function expiryPriority(expiresAt: Date, now: Date): number {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const reference = nowSeconds - (nowSeconds % BUCKET_SECONDS);
  const offset = Math.floor(expiresAt.getTime() / 1000) - reference + 1;
  return Math.min(MAX_PRIORITY - 1, Math.max(1, offset));
}
