export type Role = 'operator' | 'readonly';
export type Via = 'cli' | 'rest' | 'telegram' | 'discord' | 'webhook' | 'config' | 'system';

/** Who asks, through what, with which rights. Every service call takes one, and every call is audited. */
export interface Actor {
  readonly id: string;
  readonly via: Via;
  readonly role: Role;
}

export const SYSTEM_ACTOR: Actor = { id: 'gridops', via: 'system', role: 'operator' };

export type ServiceError =
  | { readonly kind: 'forbidden'; readonly message: string }
  | { readonly kind: 'not-found'; readonly message: string }
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'conflict'; readonly message: string }
  | { readonly kind: 'unavailable'; readonly message: string };
