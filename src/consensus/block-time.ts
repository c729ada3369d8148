/**
 * Block time rules (DESIGN.md, Consensus: Time). Pure: the caller passes the local clock in.
 *
 * - A block's time must strictly exceed the median time past (MTP) of up to its 11 ancestors.
 * - It must be at most `futureWindowMs` ahead of the local clock. A block from the future is
 *   not invalid: TIME_TOO_NEW carries how far ahead it is, so the caller holds it and retries
 *   at `retryAt` rather than banning the peer. TIME_TOO_OLD is a permanent fault.
 */
import { BlockError } from '../common/errors.js';

/** Number of ancestors whose times make the median time past. */
export const MTP_WINDOW = 11;

function checkTime(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative safe integer (ms), got ${String(v)}`);
}

/**
 * Median of the times of up to 11 ancestors (any order; the caller passes the parent's and
 * its ancestors' times, fewer near genesis). Like Bitcoin Core, an even count takes the upper
 * middle of the sorted times. RangeError for an empty list or more than 11 times.
 */
export function medianTimePast(times: readonly number[]): number {
  if (times.length === 0) throw new RangeError('median time past needs at least one ancestor');
  if (times.length > MTP_WINDOW) throw new RangeError(`median time past takes at most ${MTP_WINDOW} times, got ${times.length}`);
  for (const t of times) checkTime('ancestor time', t);
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/**
 * Throws BlockError TIME_TOO_OLD when time ≤ mtp, or TIME_TOO_NEW when time > now + futureWindowMs.
 * TIME_TOO_NEW's details: {time, now, futureWindowMs, aheadMs (time − now), excessMs (beyond the
 * window), retryAt (the earliest local clock at which the block's time is acceptable)}.
 */
export function checkBlockTime(time: number, mtp: number, now: number, futureWindowMs: number): void {
  checkTime('time', time);
  checkTime('mtp', mtp);
  checkTime('now', now);
  checkTime('futureWindowMs', futureWindowMs);
  if (time <= mtp) {
    throw new BlockError('TIME_TOO_OLD', `block time ${time} does not exceed the median time past ${mtp}`, { time, mtp });
  }
  if (time > now + futureWindowMs) {
    const aheadMs = time - now;
    throw new BlockError('TIME_TOO_NEW', `block time is ${aheadMs} ms ahead of the local clock (window ${futureWindowMs} ms)`, {
      time,
      now,
      futureWindowMs,
      aheadMs,
      excessMs: aheadMs - futureWindowMs,
      retryAt: time - futureWindowMs,
    });
  }
}
