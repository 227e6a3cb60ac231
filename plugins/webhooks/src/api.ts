declare module '@plugchat/core' {
  interface EventMap {
    'webhooks.endpoint.failing': { endpointId: string; instanceId: string; accountId: string; url: string; consecutiveFailures: number };
    'webhooks.delivery.dead': { deliveryId: string; endpointId: string; instanceId: string; accountId: string; attempts: number; error: string };
  }
}

export interface WebhooksApi {
  /** Endpoints configured for an instance (for the UI's webhooks tab). */
  endpointCount(accountId: string, instanceId: string): Promise<number>;
}
