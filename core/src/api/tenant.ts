import type { EntityManager } from '@mikro-orm/knex';

export const TENANT_FILTER = 'tenant';

interface TenantArgs {
  accountId?: string;
  system?: boolean;
}

/**
 * Spread into an EntitySchema's options for entities that belong to an account
 * (they need an `accountId` property). Every query through a request's
 * EntityManager is then limited to the caller's account; an EntityManager with
 * no account set refuses to query them at all, so a forgotten scope fails loudly.
 */
export const tenantScoped = {
  filters: {
    [TENANT_FILTER]: {
      name: TENANT_FILTER,
      default: true,
      cond: (args: TenantArgs) => (args.system ? {} : { accountId: args.accountId }),
    },
  },
};

export function scopeToAccount(em: EntityManager, accountId: string): EntityManager {
  em.setFilterParams(TENANT_FILTER, { accountId } satisfies TenantArgs);
  return em;
}

/** For jobs and maintenance that legitimately work across accounts. */
export function scopeToSystem(em: EntityManager): EntityManager {
  em.setFilterParams(TENANT_FILTER, { system: true } satisfies TenantArgs);
  return em;
}
