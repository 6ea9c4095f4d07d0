import type { EventMetadata } from '../../application/ports/event-store.ts';

/**
 * Event metadata as every store writes it and reads it back. Only the known fields are written, copied at call time
 * so that a caller mutating its objects afterwards cannot change what gets stored; fields left undefined are
 * dropped by the JSON every store writes.
 */
export function encodeMetadata(metadata: EventMetadata | undefined): EventMetadata {
  if (metadata === undefined) return {};
  const { actor, correlationId, causationId } = metadata;
  return { actor: actor && { id: actor.id, roles: [...actor.roles] }, correlationId, causationId };
}

/**
 * Metadata as the flat string properties of KurrentDB's multi-stream append, under the same keys as the JSON above,
 * so that a v1 read (which shows the properties as JSON metadata) decodes both alike. `actor` is left out: the
 * application no longer writes it (old events still carry it and are still read) and flat properties cannot hold it.
 */
export function encodeMetadataProperties(metadata: EventMetadata | undefined): Record<string, string> {
  const properties: Record<string, string> = {};
  if (metadata?.correlationId !== undefined) properties['correlationId'] = metadata.correlationId;
  if (metadata?.causationId !== undefined) properties['causationId'] = metadata.causationId;
  return properties;
}

/** What appendToStreams writes on every store: the metadata a multi-stream append keeps (see above). */
export function multiAppendMetadata(metadata: EventMetadata | undefined): EventMetadata {
  return encodeMetadataProperties(metadata);
}

/** Metadata this service wrote itself: anything but the expected shape is damage, reported as undefined. */
export function decodeOwnMetadata(raw: unknown): EventMetadata | undefined {
  if (!isRecord(raw)) return undefined;
  const { actor, correlationId, causationId } = raw;
  if (correlationId !== undefined && typeof correlationId !== 'string') return undefined;
  if (causationId !== undefined && typeof causationId !== 'string') return undefined;
  const decodedActor = decodeActor(actor);
  if (actor !== undefined && decodedActor === undefined) return undefined;
  return { actor: decodedActor, correlationId, causationId };
}

/** Events written by other tools may carry other metadata; only well-formed known fields are kept. */
export function decodeForeignMetadata(raw: unknown): EventMetadata {
  if (!isRecord(raw)) return {};
  const { actor, correlationId, causationId } = raw;
  return {
    actor: decodeActor(actor),
    correlationId: typeof correlationId === 'string' ? correlationId : undefined,
    causationId: typeof causationId === 'string' ? causationId : undefined,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function decodeActor(actor: unknown): EventMetadata['actor'] {
  if (!isRecord(actor) || typeof actor['id'] !== 'string') return undefined;
  const roles = actor['roles'];
  if (!Array.isArray(roles) || !roles.every((role): role is string => typeof role === 'string')) return undefined;
  return { id: actor['id'], roles };
}
