// The only place Redis key strings are built. Every key of a customer carries the
// customer id as a hash tag, so all of a customer's keys live in one Redis Cluster
// slot and one Lua script may touch them together. The layout version lets a new
// release change the layout without reading old values by mistake.
// Documented in docs/REDIS_LAYOUT.md.

export const KEY_LAYOUT_VERSION = 'v1';
const PREFIX = `cs:${KEY_LAYOUT_VERSION}`;

export const customerStateKey = (customerId: string): string => `${PREFIX}:{${customerId}}:state`;
