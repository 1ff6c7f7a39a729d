import type { ApiKeys, Caller } from "../auth/keys.js";
import type { Clock } from "../clock.js";
import type { OutboxChannel } from "../delivery/outbox.js";
import type { Logger } from "../log.js";
import type { Store } from "../store/types.js";
import type { Lifecycle } from "../verification/lifecycle.js";
import type { Services } from "../verification/services.js";

/** The domain services resolvers call; built once in the composition root. */
export interface AppServices {
  store: Store;
  clock: Clock;
  log: Logger;
  services: Services;
  lifecycle: Lifecycle;
  apiKeys: ApiKeys;
  /** Present when the outbox is the delivery channel. */
  outbox: OutboxChannel | null;
}

/** Per-request context: who calls, from where, and the app. */
export interface GraphQLContext {
  caller: Caller | null;
  ip: string | null;
  requestId: string;
  app: AppServices;
}
