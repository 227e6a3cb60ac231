/** Roles in increasing power; a route that needs a role accepts it and every role above it. */
export const ROLES = ['agent', 'supervisor', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}
