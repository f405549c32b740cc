import { bareHostnameObject, type HostnameObject } from '@certfleet/hostnames';

export type { HostnameEventSink, HostnameEventType, HostnameObject } from '@certfleet/hostnames';

/** Reads one hostname's object now (`describeHostname` of `@certfleet/hostnames`); null when certfleet knows nothing of it. */
export type DescribeHostname = (hostname: string) => Promise<HostnameObject | null>;

/**
 * The event's data for a name certfleet no longer knows (deleted with purge): the object of a
 * retired name with nothing left, so that every event carries a hostname object of one shape.
 */
export function forgottenHostname(hostname: string): HostnameObject {
  return bareHostnameObject(hostname, 'retired');
}
