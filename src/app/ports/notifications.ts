import type { Notification, NotificationCategory } from './core.js';

/** Where notifications are delivered (from the configuration). */
export type Destination =
  | {
      readonly kind: 'telegram';
      readonly id: string;
      readonly chatId: string;
      readonly topicId?: number;
      readonly userId?: string;
    }
  | { readonly kind: 'discord'; readonly id: string; readonly channelId: string }
  | { readonly kind: 'webhook'; readonly id: string; readonly url: string; readonly secret: string };

/** What a destination is sent: a chat reply without buttons (bot/reply.ts's Reply takes it as it is). */
export interface OutgoingMessage {
  readonly title: string;
  readonly severity: Notification['severity'];
  readonly lines: readonly string[];
  readonly image?: { readonly png: Buffer; readonly name: string };
}

/** The chat transports running in this process; a sender throws RetryLater or Undeliverable when refused. */
export interface Senders {
  telegram?: (chatId: string, message: OutgoingMessage, topicId?: number) => Promise<void>;
  discord?: (channelId: string, message: OutgoingMessage) => Promise<void>;
}

/** A destination refused for now: retry after this long (a 429's retry_after). */
export class RetryLater extends Error {
  override readonly name = 'RetryLater';
  constructor(
    readonly afterMs: number,
    message: string,
  ) {
    super(message);
  }
}

/** A destination will never take this message (chat not found, bot blocked, bad request): retrying would not help. */
export class Undeliverable extends Error {
  override readonly name = 'Undeliverable';
}

/**
 * Which notification categories each chat user has turned off (/notify). Kill-switch alerts are critical and reach
 * everyone whatever they chose.
 */
export interface NotifyPrefs {
  muted(transport: string, userId: string): Promise<NotificationCategory[]>;
  /** Turns a category on (`on`) or off for the user. */
  set(transport: string, userId: string, category: NotificationCategory, on: boolean): Promise<void>;
}

/** Deliveries that gave up, kept with their reason. */
export interface NotificationFailures {
  /** Records a failure; a second one for the same destination and key keeps the first. */
  record(failure: { destination: string; key: string; title: string; reason: string }): Promise<void>;
  forget(destination: string, key: string): Promise<void>;
}

/** Fills waiting per destination for the next digest. */
export interface DigestBuffer {
  push(destinationId: string, n: Notification): Promise<void>;
  /** Takes every waiting fill at once (each key once), leaving the buffer empty. */
  drain(destinationId: string): Promise<Notification[]>;
  /** Whether fills arrived since the last drain. */
  waiting(destinationId: string): Promise<boolean>;
}

/** A job of the deliveries queue, as the router sees it. */
export interface DeliveryJob {
  readonly id: string;
  /** One notification to one destination, or a digest of the fills buffered for it. */
  readonly name: 'deliver' | 'digest';
  readonly destination: string;
  readonly notification?: Notification;
  /** The fills a digest drained, kept on the job so a retry sends the same ones. */
  readonly digest?: readonly Notification[];
  /** Attempts made before this one, and the most allowed. */
  readonly attemptsMade: number;
  readonly attempts: number;
  /** Keeps the drained fills on the job. */
  keepDigest(digest: readonly Notification[]): Promise<void>;
  /**
   * Puts the job back until `untilMs` without spending an attempt; false when this run cannot (it does not hold the
   * job's lock), and the failure takes its ordinary course.
   */
  postpone(untilMs: number): Promise<boolean>;
}

/** Thrown by a delivery that was postponed: the job is neither done nor failed. */
export class DeliveryPostponed extends Error {
  override readonly name = 'DeliveryPostponed';
}

/** Thrown by a delivery that will never succeed: the job fails for good, without retrying. */
export class DeliveryAbandoned extends Error {
  override readonly name = 'DeliveryAbandoned';
}

/** A delivery that gave up, as the queue keeps it. */
export interface FailedDelivery {
  readonly id: string;
  readonly name: string;
  readonly destination: string | null;
  /** The key of the notification it carried; null for a digest or a job without one. */
  readonly notificationKey: string | null;
  /** Back to the queue with its attempts renewed; throws if it is no longer failed. */
  retry(): Promise<void>;
}

export interface DeliveryQueue {
  deliver(destinationId: string, n: Notification): Promise<void>;
  /** The digest of a destination's fills for a window (the window's number: one job each), sent `delayMs` from now. */
  digest(destinationId: string, window: number, delayMs: number): Promise<void>;
  /** Every delivery that gave up (as many as the queue keeps). */
  failed(): Promise<FailedDelivery[]>;
}
